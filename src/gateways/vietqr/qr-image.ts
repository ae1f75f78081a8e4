/**
 * The VietQR payload drawn as an SVG QR code, by the `qrcode` package (node-qrcode, MIT).
 *
 * Its browser entry is imported on purpose: the main entry (lib/server.js) also loads the PNG
 * renderer, which requires pngjs and so fs/zlib/stream, none of which exist on Workers. The
 * browser entry has the same encoder and SVG renderer (the same output, checked in the tests).
 */
import QRCode from 'qrcode/lib/browser.js';

/** Error-correction level M and a 2-module quiet zone, as banking apps scan reliably. */
export async function qrSvg(payload: string): Promise<string> {
  return QRCode.toString(payload, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
