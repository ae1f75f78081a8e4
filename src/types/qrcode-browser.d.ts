// The qrcode package's browser entry: the same API as its main entry, without the PNG renderer.
declare module 'qrcode/lib/browser.js' {
  import QRCode from 'qrcode';
  export default QRCode;
}
