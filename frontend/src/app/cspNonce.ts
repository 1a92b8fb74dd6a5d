import { setNonce } from "get-nonce";

/** The style nonce the server put into this page (services/ui_iot/console.py). The page's
 * Content-Security-Policy allows <style> elements only with it (no 'unsafe-inline'): Mantine's carry it
 * through MantineProvider's getStyleNonce, and those of react-remove-scroll (Mantine's modals) through
 * get-nonce, set here once. Undefined under the Vite dev server, which sends no policy. */
export function styleNonce(): string | undefined {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content || undefined;
}

const nonce = styleNonce();
if (nonce) setNonce(nonce);

/** For MantineProvider: the page's nonce, when it has one. */
export const getStyleNonce: (() => string) | undefined = nonce ? () => nonce : undefined;
