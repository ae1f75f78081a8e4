import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a dossier system's receiver got it (recorded on arrival, before it answers). */
export interface ReceivedDelivery {
  eventId: string;
  eventType: string;
  deliveryId: string;
  dossierCode: string;
  body: string;
  /** The status the receiver answered (null: it never answered). */
  status: number | null;
}

export interface Receiver {
  url: string;
  received: ReceivedDelivery[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on loopback. `answer` decides each request's status (after any delay it
 * likes); returning null leaves the request unanswered (the test does something else with it).
 */
export async function startReceiver(answer: (delivery: ReceivedDelivery) => Promise<number | null> | number | null): Promise<Receiver> {
  const received: ReceivedDelivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      let dossierCode = '';
      try {
        dossierCode = String((JSON.parse(body) as { dossierCode?: unknown }).dossierCode ?? '');
      } catch {}
      const delivery: ReceivedDelivery = {
        eventId: String(req.headers['hub-event-id'] ?? ''),
        eventType: String(req.headers['hub-event-type'] ?? ''),
        deliveryId: String(req.headers['hub-delivery-id'] ?? ''),
        dossierCode,
        body,
        status: null,
      };
      received.push(delivery);
      void Promise.resolve(answer(delivery)).then(
        (status) => {
          if (status === null) return;
          delivery.status = status;
          res.statusCode = status;
          res.end(status < 300 ? 'ok' : 'no');
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hub-events`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
