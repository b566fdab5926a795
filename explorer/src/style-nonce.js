// Runs before anything else on the page (main.js imports it first).
//
// The page's Content-Security-Policy admits a <style> element only with this response's
// nonce. Monaco, GraphiQL's editor, adds <style> elements at run time (its theme, its
// widgets) and has no setting for a nonce, so every <style> this page creates gets it.
const meta = document.querySelector('meta[name="csp-nonce"]');
const nonce = meta?.getAttribute('content') ?? '';
meta?.remove();

if (/^[A-Za-z0-9_-]{16,}$/.test(nonce)) {
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function createElementWithNonce(tagName, options) {
    const element = createElement.call(this, tagName, options);
    if (element instanceof HTMLStyleElement) {
      element.nonce = nonce;
    }
    return element;
  };
}
