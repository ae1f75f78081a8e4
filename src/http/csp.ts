/** A fresh nonce for one page's Content-Security-Policy (the dashboard's and /docs's inline scripts). */
export function cspNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}
