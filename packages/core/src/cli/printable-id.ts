/**
 * An id as the CLI prints it: quoted and escaped as a JSON string when it holds a control
 * character (or is empty), as is otherwise. Ids come from requests; a raw escape sequence must
 * not reach the operator's terminal.
 *
 * @example
 * ```ts
 * printableId('42'); // '42'
 * printableId('a\u001b[31m'); // '"a\\u001b[31m"'
 * ```
 */
export function printableId(id: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return /[\u0000-\u001f\u007f-\u009f]/.test(id) || id === '' ? JSON.stringify(id) : id;
}
