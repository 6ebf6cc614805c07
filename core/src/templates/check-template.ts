import { ValidationError } from "../errors/domain-error.ts";
import { type CompiledTemplate, compileTemplate } from "./render.ts";
import { MAX_RENDERED_LENGTH, type TemplateWarning } from "./schema.ts";
import { isBuiltInVariable, TemplateSyntaxError } from "./syntax.ts";

export interface CheckedTemplate {
  compiled: CompiledTemplate;
  warnings: TemplateWarning[];
}

/**
 * What saving a template checks: its syntax (the first problem, with its position), that its
 * longest possible rendering fits one WhatsApp message, and which variables some contacts may leave
 * empty (warnings, not errors: custom fields are the point of templates, and a name may be unknown).
 * Throws ValidationError naming `body` (or `fallbacks`); nothing is saved then.
 */
export function checkTemplate(body: string, fallbacks: Readonly<Record<string, string>>): CheckedTemplate {
  let compiled: CompiledTemplate;
  try {
    compiled = compileTemplate(body, fallbacks);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    throw new ValidationError(`Invalid template: ${error.message}.`, [{ path: "body", message: error.message }], {
      details: { at: error.problem.at },
    });
  }
  if (compiled.maxLength > MAX_RENDERED_LENGTH) {
    const message = `its longest rendering is ${compiled.maxLength} characters; a message may have at most ${MAX_RENDERED_LENGTH} (custom fields count as 500, names as 200, unless shorter alternatives are used)`;
    throw new ValidationError(`Invalid template: ${message}.`, [{ path: "body", message }], {
      details: { maxLength: compiled.maxLength, limit: MAX_RENDERED_LENGTH },
    });
  }
  const used = new Set(compiled.variables.map((v) => v.name));
  const unused = Object.keys(fallbacks).filter((name) => !used.has(name));
  if (unused.length > 0) {
    const message = `the body uses no variable called ${unused.join(", ")}`;
    throw new ValidationError(`Invalid template: ${message}.`, [{ path: "fallbacks", message }]);
  }
  const warnings: TemplateWarning[] = [];
  for (const { name, alwaysFallback } of compiled.variables) {
    if (alwaysFallback) continue;
    warnings.push({
      variable: name,
      message: isBuiltInVariable(name)
        ? `{{${name}}} has no fallback: contacts without a ${name === "phone" ? "known phone number" : "name"} get nothing in its place`
        : `{{${name}}} is a custom field without a fallback: contacts without a "${name}" field get nothing in its place`,
    });
  }
  return { compiled, warnings };
}
