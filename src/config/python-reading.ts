/**
 * Where Python CodeCarbon gives a file value another meaning than this tool, for reasons of the
 * key's type: CodeCarbon turns a boolean on with the word `true` only, compares enum values
 * exactly, uses `~` in a path literally, and keeps `none`/`null` as words. This tool keeps its
 * reading (friendlier, and documented) but says where the two differ, so a file shared by both
 * tools never means two things silently. The type-independent differences are in ini-source.ts.
 */
import type { KeySpec } from "./schema";

const PYTHON = "Python CodeCarbon";
const TRUE_WORDS_PYTHON_REFUSES = new Set(["yes", "on", "1"]);

function enumCaseDiffers(text: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return false;
  return !allowed.includes(text) && allowed.some((value) => value.toLowerCase() === text.toLowerCase());
}

/** What differs for a value this tool read successfully, or undefined when both read it alike. */
export function pythonReadsOtherwise(spec: KeySpec, raw: string): string | undefined {
  const text = raw.trim();
  const lowered = text.toLowerCase();
  if (spec.type === "boolean" && TRUE_WORDS_PYTHON_REFUSES.has(lowered))
    return `${PYTHON} takes only the word true as true (it reads ${text} as false); this tool reads it as true. Write true`;
  if (spec.nullable && (lowered === "none" || lowered === "null"))
    return `${PYTHON} reads ${text} as the word itself; this tool reads it as unset. Leave the key out instead`;
  if (spec.parser === undefined && enumCaseDiffers(text, spec.enum))
    return `${PYTHON} compares ${spec.key} exactly, so ${text} is not one of its values there; this tool ignores the case. Write it in lower case`;
  if (spec.type === "array" && spec.items?.enum !== undefined) {
    const items = text.split(",").map((item) => item.trim().replace(/^[[(]|[\])]$/g, ""));
    const odd = items.find((item) => enumCaseDiffers(item, spec.items?.enum));
    if (odd !== undefined)
      return `${PYTHON} compares ${spec.key}'s values exactly, so ${odd} is not one of them there; this tool ignores the case. Write it in lower case`;
  }
  if (spec.isPath && text.startsWith("~"))
    return `${PYTHON} does not expand ~ (it looks for a folder named ~); this tool expands it to the home folder. Write the full path`;
  return undefined;
}
