import { describe, expect, it } from "vitest";
import { FormError, paramName, parseForm } from "../src/testing/stripe/form.ts";

/** The local Stripe's reading of form-encoded parameters, nested as Stripe's clients nest them. */
describe("parseForm", () => {
  it("nests bracketed keys, makes indexed keys arrays, and decodes values", () => {
    const form = parseForm(
      "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=1&metadata[tenantId]=t%201&expand[]=data.product&expand[]=customer&note=a+b",
    );
    expect(form).toEqual({
      mode: "subscription",
      line_items: [{ price: "price_1", quantity: "1" }],
      metadata: { tenantId: "t 1" },
      expand: ["data.product", "customer"],
      note: "a b",
    });
  });

  it("reads percent-encoded brackets as brackets, and an empty value as empty", () => {
    expect(parseForm("metadata%5Bplan%5D=&cancel_at_period_end=true")).toEqual({
      metadata: { plan: "" },
      cancel_at_period_end: "true",
    });
  });

  it("closes gaps in indexes in their order", () => {
    expect(parseForm("items[5][id]=b&items[2][id]=a")).toEqual({ items: [{ id: "a" }, { id: "b" }] });
  });

  it("refuses what no client sends: prototype keys, repeats, a value that is also an object, deep nesting", () => {
    for (const hostile of [
      "__proto__[polluted]=1",
      "metadata[constructor]=1",
      "name=a&name=b",
      "metadata=x&metadata[a]=b",
      "a[b][c][d][e][f][g]=1",
      "items[100000][id]=x",
      "bad%ZZ=1",
      "a]b=1",
    ]) {
      expect(() => parseForm(hostile), hostile).toThrow(FormError);
    }
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(() => parseForm(Array.from({ length: 1_001 }, (_, i) => `k${i}=v`).join("&"))).toThrow(/at most 1000/);
  });

  it("names nested parameters as Stripe does in errors", () => {
    expect(paramName(["line_items", 0, "price"])).toBe("line_items[0][price]");
    expect(paramName(["customer"])).toBe("customer");
  });
});
