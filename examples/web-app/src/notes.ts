/** One note of the example API. */
export interface Note {
  readonly id: number;
  readonly text: string;
}

/**
 * The example's data: notes per account, in memory. Stands for the app's real work; sluice
 * never touches it.
 *
 * @example
 * ```ts
 * const notes = new NoteBook();
 * notes.add('alice', 'hello');
 * notes.list('alice'); // [{ id: 1, text: 'hello' }]
 * ```
 */
export class NoteBook {
  readonly #notes = new Map<string, Note[]>();
  #next = 1;

  /** The account's notes. */
  list(account: string): readonly Note[] {
    return this.#notes.get(account) ?? [];
  }

  /** Adds a note; a text that is not a non-empty string of at most 1,000 characters is refused. */
  add(account: string, text: unknown): Note | undefined {
    if (typeof text !== 'string' || text.length === 0 || text.length > 1000) return undefined;
    const note = { id: this.#next++, text };
    const notes = this.#notes.get(account);
    if (notes === undefined) this.#notes.set(account, [note]);
    else notes.push(note);
    return note;
  }

  /** What an export produces: every note of the account, after a moment's work. */
  async export(account: string): Promise<{ notes: readonly Note[] }> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { notes: this.list(account) };
  }
}
