"""order-processor: the seed's subscriber on Python's standard library.

Dapr asks GET /dapr/subscribe which topics the app wants, then POSTs each
order to the route as a structured CloudEvent (application/cloudevents+json).
"""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUBSCRIPTIONS = [{
    'pubsubname': 'orderpubsub',
    'topic': 'orders',
    'route': 'orders',
}]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != '/dapr/subscribe':
            return self.reply(404, {'error': 'not found'})
        print('Dapr pub/sub is subscribed to: %s' % json.dumps(SUBSCRIPTIONS), flush=True)
        self.reply(200, SUBSCRIPTIONS)

    def do_POST(self):
        if self.path != '/orders':
            return self.reply(404, {'error': 'not found'})
        length = int(self.headers.get('Content-Length') or 0)
        try:
            event = json.loads(self.rfile.read(length))
            data = event.get('data')
            if isinstance(data, str):  # published as text: the order is a JSON string
                data = json.loads(data)
        except (ValueError, AttributeError) as e:
            return self.reply(400, {'success': False, 'error': 'not a JSON CloudEvent: %s' % e})
        order_id = data.get('orderId') if isinstance(data, dict) else None
        if order_id is None:
            return self.reply(400, {'success': False, 'error': 'orderId missing'})
        print('Subscriber received: orderId=%s, customerName=%s, amount=%s, status=%s' % (
            order_id, data.get('customerName'), data.get('amount'), data.get('status')), flush=True)
        self.reply(200, {'success': True})

    def reply(self, code, body):
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, fmt, *args):
        print('%s - - %s' % (self.address_string(), fmt % args), flush=True)


if __name__ == '__main__':
    port = int(os.environ.get('APP_PORT', '6001'))
    ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
