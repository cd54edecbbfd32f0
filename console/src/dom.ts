/** Small DOM helpers: the console builds its views with these, no framework. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/**
 * An element with attributes, `on*` listeners and children. `false`, `null` and `undefined`
 * attributes and children are left out, so conditions read inline. Text is always text: no HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== 'string') (element as unknown as Record<string, unknown>)[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces `parent`'s children. */
export function fill(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (SVGElement | string)[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child);
  return element;
}

/** One term and its value of a `<dl>`. */
export function term(label: string, value: Node | string | number): HTMLElement {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

/** Draws the current view again (the router listens for hashchange), after a change it shows. */
export function rerender(): void {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/**
 * For a view whose requests can overlap (a filter applied while the page before it is still on its
 * way, a second window picked before the first one's chart came): `begin()` numbers a request and
 * `isLatest(turn)` says whether none began after it, so that a late answer never replaces a newer one.
 */
export function requestTurns(): { begin(): number; isLatest(turn: number): boolean; readonly latest: number } {
  let latest = 0;
  return {
    begin: () => ++latest,
    isLatest: (turn) => turn === latest,
    get latest() {
      return latest;
    },
  };
}

/** A button that runs `run` on a click, disabled until it settles, and hands a failure to `onError`. */
export function actionButton(label: string, run: () => Promise<unknown>, onError: (error: unknown) => void, className = ''): HTMLButtonElement {
  const button = h('button', { type: 'button', class: className }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      onError(error);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

let toastTimer: number | undefined;
/** A short message in the page's live region (read out by screen readers). */
export function toast(message: string): void {
  const region = document.getElementById('toast');
  if (!region) return;
  region.textContent = message;
  region.classList.add('shown');
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => region.classList.remove('shown'), 4000);
}

/** Copies text to the clipboard, saying so; where the clipboard is refused, selects the text to copy by hand. */
export async function copyText(text: string, what: string, fallback?: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast(`Copied ${what}`);
  } catch {
    if (fallback) window.getSelection()?.selectAllChildren(fallback);
    toast(`Could not copy ${what}: it is selected, copy it with Ctrl+C`);
  }
}

/**
 * A confirmation in a modal <dialog>: resolves true when the person confirms. `extra` (a field
 * to choose an option with) sits above the buttons; the caller reads it once resolved.
 */
export function confirmDialog(title: string, body: string, confirmLabel: string, extra?: HTMLElement): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, title),
        h('p', {}, body),
        extra,
        h('div', { class: 'actions' }, h('button', { value: 'cancel', type: 'submit' }, 'Cancel'), h('button', { value: 'confirm', type: 'submit', class: 'danger' }, confirmLabel)),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function formatTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A `datetime-local` input's value as RFC 3339 in UTC, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}
