import './styles.css';
import { describeError, forgetKey, isUnauthorized, storedKey } from './api';
import { fill, h } from './dom';
import { endpointView } from './endpoint';
import { endpointsView } from './endpoints';
import { eventView } from './event-detail';
import { metricsView } from './metrics';
import { signInView } from './signin';

/** A view draws into `main` and may give back what stops it (timers, polls) when it is left. */
export type View = (main: HTMLElement, signal: AbortSignal) => void | Promise<void>;

/** Routes live in the URL's fragment: it never reaches the server, and the key is never in it. */
function route(hash: string): View {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [section, id, tab, eventId] = parts;
  if (section === 'endpoints' && id && tab === 'events' && eventId) return (main, signal) => eventView(main, id, eventId, signal);
  if (section === 'endpoints' && id) return (main, signal) => endpointView(main, id, tab ?? 'events', signal);
  if (section === 'metrics') return (main, signal) => metricsView(main, null, signal);
  return endpointsView;
}

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let leaving: AbortController | undefined;

async function render(): Promise<void> {
  leaving?.abort();
  const controller = (leaving = new AbortController());
  const signedIn = storedKey() !== null;
  nav.hidden = !signedIn;
  for (const link of nav.querySelectorAll('a')) {
    const here = link.getAttribute('href') === (location.hash.startsWith('#/metrics') ? '#/metrics' : '#/');
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!signedIn) return signInView(main, () => void render());
  try {
    await route(location.hash)(main, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return;
    if (isUnauthorized(error)) {
      forgetKey();
      return signInView(main, () => void render(), 'The service no longer accepts this API key (revoked?). Sign in again.');
    }
    fill(main, h('h1', {}, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, describeError(error)), h('p', {}, h('a', { href: '#/' }, 'Back to endpoints')));
  }
}

window.addEventListener('hashchange', () => {
  void render().then(() => main.focus({ preventScroll: true }));
});
// The fragment holds the route, so the skip link moves focus itself instead of navigating.
document.querySelector('.skip-link')!.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
document.getElementById('sign-out')!.addEventListener('click', () => {
  forgetKey();
  history.replaceState(null, '', location.pathname);
  void render();
});
void render();
