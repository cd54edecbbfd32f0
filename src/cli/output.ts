import { Option } from 'commander';

export interface JsonOption {
  json?: boolean;
}

/** The `--json` option every command that prints takes. */
export const jsonOption = (description = 'print JSON') => new Option('--json', description);

/** Prints `--json` output as one JSON document, or the human lines otherwise. */
export function report(options: JsonOption, json: unknown, lines: string[]): void {
  console.log(options.json ? JSON.stringify(json, null, 2) : lines.join('\n'));
}

/** Rows under a header, each column as wide as its widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  return [header, ...rows].map((cells) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** Prints a list: a JSON array with `--json`, else a table (a header alone when it is empty). */
export function reportList<T>(options: JsonOption, items: T[], header: string[], row: (item: T) => string[]): void {
  report(options, items, table(header, items.map(row)));
}
