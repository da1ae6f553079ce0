// Dashboard client: keeps the live region of a page current without reloading
// (fetches its server-rendered fragment every few seconds while the tab is
// visible), and asks before bulk actions. Served from /assets: no inline script.
const INTERVAL_MS = 2000;

const region = document.querySelector('[data-live]');
if (region) {
  let busy = false;
  let last = '';
  const refresh = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch(region.dataset.live, {
        credentials: 'same-origin',
        headers: { accept: 'text/html' },
      });
      if (res.status === 401) {
        window.location.assign('/login');
        return;
      }
      if (res.ok) {
        const next = await res.text();
        // Replace only when something changed, and not while a button is being pressed (the click would be lost).
        if (withoutTime(next) !== withoutTime(last) && !pointerDown) {
          region.innerHTML = next;
          last = next;
        } else {
          const time = region.querySelector('time');
          const fresh = new DOMParser().parseFromString(next, 'text/html').querySelector('time');
          if (time && fresh) time.textContent = fresh.textContent;
        }
        region.classList.remove('stale');
      } else region.classList.add('stale');
    } catch {
      region.classList.add('stale');
    } finally {
      busy = false;
    }
  };
  const withoutTime = (markup) => markup.replace(/<time[^>]*>[^<]*<\/time>/g, '');
  let pointerDown = false;
  region.addEventListener('pointerdown', () => {
    pointerDown = true;
  });
  document.addEventListener('pointerup', () => {
    pointerDown = false;
  });
  setInterval(refresh, INTERVAL_MS);
  document.addEventListener('visibilitychange', refresh);
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});
