/**
 * Generated Markdown: tables, and the regions of a hand-written document that hold them, marked
 * `<!-- generated:<name> (npm run docs) -->` ... `<!-- /generated:<name> -->`.
 */

/** A Markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `document` with each named region replaced by what its generator gives now; `where` names it in errors. */
export function withRegions(document: string, regions: Record<string, () => string>, where: string): string {
  let result = document;
  for (const [name, generate] of Object.entries(regions)) {
    const start = `<!-- generated:${name} (npm run docs) -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = result.indexOf(start);
    const to = result.indexOf(end);
    if (from === -1 || to < from) throw new Error(`${where} has no region ${start} … ${end}`);
    // Prettier would re-align a table, and the next `npm run docs` undo it: it leaves these alone.
    const body = `<!-- prettier-ignore-start -->\n${generate()}\n<!-- prettier-ignore-end -->`;
    result = `${result.slice(0, from + start.length)}\n${body}\n${result.slice(to)}`;
  }
  return result;
}
