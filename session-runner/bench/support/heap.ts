import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface MemoryAfterGc {
  heap: number;
  /** What V8 holds for the heap, used or not: part of the resident memory the heap alone does not show. */
  heapTotal: number;
  arrayBuffers: number;
  rss: number;
}

let gc: (() => void) | undefined;

/**
 * Exposes V8's collector and turns bytecode flushing off; call it before a benchmark sets anything
 * up. V8 flushes code that has not run lately: the code that set the benchmark up would otherwise
 * leave the heap during its first step and make that step look cheaper than the rest.
 */
export function prepareMemoryMeasurement(): () => void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    setFlagsFromString("--no-flush-bytecode");
    const exposed: unknown = runInNewContext("gc");
    if (typeof exposed !== "function") throw new Error("global gc is not exposed");
    gc = () => exposed();
  }
  return gc;
}

/** This process's memory after full collections, in bytes. */
export function memoryAfterGc(): MemoryAfterGc {
  const collect = prepareMemoryMeasurement();
  for (let i = 0; i < 3; i++) collect();
  const { heapUsed, heapTotal, arrayBuffers, rss } = process.memoryUsage();
  return { heap: heapUsed, heapTotal, arrayBuffers, rss };
}
