import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isDomainError, NotFoundError, PlanLimitError, parseOrThrow, ValidationError } from "../src/index.ts";

describe("domain errors", () => {
  it("carry a stable code and their class name", () => {
    const error = new PlanLimitError("Your plan allows 1 bot.", { details: { limit: 1 } });
    expect(error.code).toBe("plan_limit");
    expect(error.name).toBe("PlanLimitError");
    expect(error.details).toEqual({ limit: 1 });
    expect(isDomainError(error)).toBe(true);
    expect(isDomainError(new Error("x"))).toBe(false);
    expect(new NotFoundError().code).toBe("not_found");
  });

  it("name every bad field path when a schema rejects input", () => {
    const schema = z.strictObject({ name: z.string().min(1), settings: z.object({ prefixes: z.array(z.string()) }) });
    let caught: unknown;
    try {
      parseOrThrow(schema, { name: "", settings: { prefixes: [".", 3] }, extra: true }, "bot");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const paths = (caught as ValidationError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(["", "name", "settings.prefixes[1]"]);
    expect((caught as ValidationError).message).toMatch(/^Invalid bot: /);
  });
});
