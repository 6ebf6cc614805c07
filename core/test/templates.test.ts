import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkTemplate,
  compileTemplate,
  MAX_RENDERED_LENGTH,
  type RenderContact,
  renderTemplate,
  spinSeed,
  TemplateSyntaxError,
  ValidationError,
} from "../src/index.ts";

const ayu: RenderContact = {
  name: "Ayu Lestari",
  pn: "6281234567890@s.whatsapp.net",
  fields: { city: "Bandung", order: "A-17" },
};
const nobody: RenderContact = { name: null, pn: null, fields: {} };
const render = (body: string, contact: RenderContact = ayu, seed = 1, fallbacks: Record<string, string> = {}) =>
  renderTemplate(compileTemplate(body, fallbacks), contact, seed);

function syntaxError(body: string): TemplateSyntaxError {
  try {
    compileTemplate(body);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return error;
    throw error;
  }
  throw new Error(`${body} parsed`);
}

describe("template variables", () => {
  it("fills the name, the first name, the phone and custom fields", () => {
    expect(render("Hi {{first_name}} ({{name}}, {{phone}}): order {{order}} ships to {{city}}.")).toEqual({
      text: "Hi Ayu (Ayu Lestari, +6281234567890): order A-17 ships to Bandung.",
      missing: [],
    });
  });

  it("takes names case-insensitively and with spaces inside the braces", () => {
    expect(render("{{ First_Name }} in {{CITY}}").text).toBe("Ayu in Bandung");
  });

  it("uses the inline fallback, then the template's, and names what neither covered", () => {
    expect(render("Hi {{name|there}}, {{city|friend}}!", nobody)).toEqual({ text: "Hi there, friend!", missing: [] });
    expect(render("Hi {{name}} from {{city}}", nobody, 1, { name: "there" })).toEqual({
      text: "Hi there from ",
      missing: ["city"],
    });
    // The inline fallback wins over the template's.
    expect(render("{{name|you}}", nobody, 1, { name: "there" }).text).toBe("you");
    // A value that is only spaces is no value.
    expect(render("{{city|somewhere}}", { ...ayu, fields: { city: "   " } }).text).toBe("somewhere");
  });

  it("does not read inherited properties as custom fields", () => {
    expect(render("{{constructor|none}} {{tostring|none}}").text).toBe("none none");
  });

  it("keeps literal braces, pipes and backslashes that are escaped, and bare pipes at the top", () => {
    expect(render("a \\{b\\} c \\| d \\\\ e | f").text).toBe("a {b} c | d \\ e | f");
    expect(render("{x\\|y|x\\|y}").text).toBe("x|y");
  });
});

describe("spintax", () => {
  it("picks one alternative per group, nested too, the same for the same seed", () => {
    const body = "{Hi|Hello|Hey} {{first_name}}, {a {big|huge} sale|{new|fresh} stock} is here";
    const seeds = Array.from({ length: 200 }, (_, i) => spinSeed("campaign-1", `lid:${100000 + i}`));
    const texts = seeds.map((seed) => render(body, ayu, seed).text);
    for (const text of texts) {
      expect(text).toMatch(/^(Hi|Hello|Hey) Ayu, (a (big|huge) sale|(new|fresh) stock) is here$/);
    }
    // Every variant shows up among 200 recipients, and a retried rendering is the same text.
    expect(new Set(texts).size).toBe(12);
    expect(seeds.map((seed) => render(body, ayu, seed).text)).toEqual(texts);
  });

  it("draws from the campaign and the person: another campaign gives another spread", () => {
    const body = "{a|b|c|d|e|f|g|h}";
    const pick = (campaign: string) =>
      Array.from({ length: 50 }, (_, i) => render(body, ayu, spinSeed(campaign, `pn:62812${i}00000`)).text).join("");
    expect(pick("c-1")).toBe(pick("c-1"));
    expect(pick("c-1")).not.toBe(pick("c-2"));
  });

  it("allows variables with fallbacks inside alternatives", () => {
    expect(render("{Hi {{name|there}}}", nobody).text).toBe("Hi there");
  });
});

describe("template syntax errors", () => {
  it.each([
    ["Hi {there", "`{` is not closed by `}`", 3],
    ["Hi there}", "`}` closes no `{`", 8],
    ["Hi {{name}", "`{{` is not closed by `}}`", 3],
    ["Hi {{}}", "`{{}}` names no variable", 3],
    ["Hi {{first name}}", "is not a variable", 3],
    ["Hi {{9lives}}", "is not a variable", 3],
    ["Hi {{name|a{b}}", "may not contain braces", 3],
    ["50\\% off", "a backslash escapes only", 2],
    ["trailing \\", "a backslash escapes only", 9],
  ])("%s: %s at %i", (body, message, at) => {
    const error = syntaxError(body);
    expect(error.message).toContain(message);
    expect(error.problem.at).toBe(at);
  });

  it("refuses nesting deeper than 8", () => {
    expect(syntaxError(`${"{a ".repeat(9)}${"}".repeat(9)}`).message).toContain("nested more than 8 deep");
    expect(() => compileTemplate(`${"{a ".repeat(8)}${"}".repeat(8)}`)).not.toThrow();
  });

  it("never throws anything but a TemplateSyntaxError, and what parses renders within its maximum length", () => {
    const pieces = fc.constantFrom("{", "}", "|", "\\", "{{", "}}", "name", "city", " ", "x", "é", "{{name|hi}}");
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 30 }), fc.integer(), (parts, seed) => {
        const body = parts.join("");
        let compiled: ReturnType<typeof compileTemplate>;
        try {
          compiled = compileTemplate(body);
        } catch (error) {
          expect(error).toBeInstanceOf(TemplateSyntaxError);
          return;
        }
        const long: RenderContact = { name: "n".repeat(200), pn: null, fields: { city: "c".repeat(500) } };
        for (const contact of [ayu, nobody, long]) {
          expect(renderTemplate(compiled, contact, seed).text.length).toBeLessThanOrEqual(compiled.maxLength);
        }
      }),
    );
  });
});

describe("checkTemplate (what saving checks)", () => {
  it("warns about variables without a fallback, and not about those with one everywhere", () => {
    const { warnings } = checkTemplate("Hi {{name}}, {{city}} {{order|your order}} {{phone|}}", {});
    expect(warnings.map((w) => w.variable)).toEqual(["name", "city"]);
    expect(warnings[1]?.message).toContain('custom field without a fallback: contacts without a "city" field');
    expect(checkTemplate("Hi {{name}}", { name: "there" }).warnings).toEqual([]);
    // One use without a fallback is enough to warn.
    expect(checkTemplate("{{city|x}} and {{city}}", {}).warnings.map((w) => w.variable)).toEqual(["city"]);
  });

  it("refuses a body whose longest rendering is over 4,096, counting the longest alternative and values", () => {
    expect(checkTemplate("x".repeat(MAX_RENDERED_LENGTH), {}).compiled.maxLength).toBe(MAX_RENDERED_LENGTH);
    expect(() => checkTemplate(`${"x".repeat(MAX_RENDERED_LENGTH - 1)}{a|bb}`, {})).toThrow(ValidationError);
    // Eight custom fields could be 500 characters each, plus the text: 4,001 + 100 > 4,096.
    const fields = Array.from({ length: 8 }, (_, i) => `{{f${i}}}`).join("");
    expect(() => checkTemplate(`${fields}${"y".repeat(100)}`, {})).toThrow(/longest rendering is 4100 characters/);
    expect(checkTemplate(`${fields}${"y".repeat(96)}`, {}).compiled.maxLength).toBe(4_096);
  });

  it("names the body and the position of a syntax error, and fallbacks for variables the body does not use", () => {
    try {
      checkTemplate("Hi {{name", {});
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      if (!(error instanceof ValidationError)) return;
      expect(error.issues).toEqual([{ path: "body", message: "`{{` is not closed by `}}` (at character 4)" }]);
      expect(error.details).toEqual({ at: 3 });
    }
    expect(() => checkTemplate("Hi {{name}}", { city: "x" })).toThrow(/uses no variable called city/);
  });
});
