import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** The shell of every page the hub renders for people: Vietnamese, self-contained, printable. */
export function page(
  title: string,
  body: HtmlEscapedString | Promise<HtmlEscapedString>,
  extraCss = '',
  head: HtmlEscapedString | Promise<HtmlEscapedString> | '' = '',
) {
  return html`<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${head}
<style>
  :root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --line: #c9c9c9; --accent: #0b5394; --danger: #a61b1b; }
  * { box-sizing: border-box; }
  body { font-family: "Times New Roman", "Noto Serif", serif; color: var(--ink); background: #f4f4f4; margin: 0; padding: 2rem 1rem; }
  main { max-width: 52rem; margin: 0 auto; background: #fff; padding: 2rem 2.5rem; border: 1px solid var(--line); }
  h1 { font-size: 1.4rem; text-align: center; margin: 0.5rem 0; text-transform: uppercase; }
  table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
  th, td { border: 1px solid var(--line); padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
  td.amount, th.amount { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .muted { color: var(--muted); }
  button { font: inherit; padding: 0.7rem 1.6rem; border-radius: 4px; border: 1px solid transparent; cursor: pointer; }
  button.primary { background: var(--accent); color: #fff; }
  button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
  @media print { body { background: #fff; padding: 0; } main { border: 0; } .no-print { display: none; } }
  ${raw(extraCss)}
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}
