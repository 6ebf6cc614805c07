import type { SignalDataSet, SignalDataTypeMap, SignalKeyStore } from "baileys";

/** A simulated phone's Signal keys: in memory, as Baileys' store contract wants them. */
export class MemoryKeyStore implements SignalKeyStore {
  readonly #data: Map<string, unknown>;

  /** `entries`: a store's contents from `entries()`, to carry on from a snapshot. */
  constructor(entries: Iterable<[string, unknown]> = []) {
    this.#data = new Map(entries);
  }

  entries(): Array<[string, unknown]> {
    return [...this.#data.entries()];
  }

  get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]): { [id: string]: SignalDataTypeMap[T] } {
    const found: { [id: string]: SignalDataTypeMap[T] } = {};
    for (const id of ids) {
      const value = this.#data.get(`${type}/${id}`);
      // The store holds only what `set` put under this type.
      if (value !== undefined) found[id] = value as SignalDataTypeMap[T];
    }
    return found;
  }

  /** The ids stored under a type (for inspection in tests). */
  ids(type: keyof SignalDataTypeMap): string[] {
    const prefix = `${type}/`;
    return [...this.#data.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  set(data: SignalDataSet): void {
    for (const [type, values] of Object.entries(data)) {
      for (const [id, value] of Object.entries(values ?? {})) {
        if (value === null || value === undefined) this.#data.delete(`${type}/${id}`);
        else this.#data.set(`${type}/${id}`, value);
      }
    }
  }
}
