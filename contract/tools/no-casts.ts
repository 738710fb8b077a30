// Fails when hand-written TypeScript uses a cast: `x as T` (also `as const`), `<T>x`, a non-null
// assertion `x!`, or the type `any`. A cast the flow would need is a contract defect to report.
import { readFileSync } from "node:fs";
import ts from "typescript";

const files = process.argv.slice(2);
const found: string[] = [];

for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const visit = (node: ts.Node): void => {
    let what = "";
    if (ts.isAsExpression(node)) what = "`as` cast";
    else if (ts.isTypeAssertionExpression(node)) what = "`<T>` cast";
    else if (ts.isNonNullExpression(node)) what = "`!` non-null assertion";
    else if (node.kind === ts.SyntaxKind.AnyKeyword) what = "`any`";
    if (what !== "") {
      const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${file}:${line + 1}:${character + 1}: ${what}: ${node.getText(source).slice(0, 80)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

if (found.length > 0) {
  console.error(`${found.length} cast(s) in hand-written code (report a contract defect instead):`);
  for (const line of found) console.error(`  ${line}`);
  process.exitCode = 1;
} else {
  console.log(`no casts in ${files.length} files`);
}
