import { bodyOf, clientFor, describeError, isUnauthorized, signIn } from './api';
import { fill, h } from './dom';

/** Sign-in by API key: checked against the service before it is kept for the tab. */
export function signInView(main: HTMLElement, done: () => void, notice?: string): void {
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'api-key-help' });
  const message = h('p', { class: 'error', role: 'alert' }, notice ?? '');
  const button = h('button', { type: 'submit' }, 'Sign in');
  // No action and no GET: the key must never become part of a URL, even with scripts failing.
  const form = h(
    'form',
    { class: 'card narrow', method: 'post', action: '#' },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('p', { id: 'api-key-help', class: 'hint' }, 'A project API key (pek_…). It is kept in this tab only (sessionStorage) and forgotten when you sign out or close the tab. `npm start` prints the local dev key and keeps it in .data/dev-api-key.'),
    button,
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    message.textContent = '';
    const client = clientFor(key);
    try {
      await bodyOf(client.GET('/v1/pull-endpoints', { params: { query: { limit: 1 } } }));
      signIn(key, client);
      done();
    } catch (error) {
      message.textContent = isUnauthorized(error) ? 'The service refused this API key. Check it and try again.' : describeError(error);
      button.disabled = false;
      input.focus();
    }
  });
  fill(main, form);
  input.focus();
}
