"""checkout: the seed's publisher on Python's standard library.

It publishes 19 orders through its Dapr sidecar's publish API, one a second
(PUBLISH_INTERVAL seconds), as DaprClient().publish_event does.
"""
import json
import logging
import os
import time
import urllib.error
import urllib.request

logging.basicConfig(level=logging.INFO)

DAPR = 'http://127.0.0.1:%s' % os.environ.get('DAPR_HTTP_PORT', '3500')
TOKEN = os.environ.get('DAPR_API_TOKEN', '')


def call(method, path, body=None, content_type=None):
    req = urllib.request.Request(DAPR + path, data=body, method=method)
    if content_type:
        req.add_header('Content-Type', content_type)
    if TOKEN:
        req.add_header('dapr-api-token', TOKEN)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


def wait_for_sidecar(timeout=60):
    """As the Dapr SDKs do: wait until the sidecar answers its health check."""
    deadline = time.time() + timeout
    while True:
        try:
            if call('GET', '/v1.0/healthz/outbound') == 204:
                return
        except (urllib.error.URLError, OSError):
            pass
        if time.time() > deadline:
            raise SystemExit('Dapr sidecar not reachable at %s' % DAPR)
        time.sleep(0.2)


def main():
    wait_for_sidecar()
    interval = float(os.environ.get('PUBLISH_INTERVAL', '1'))
    for i in range(1, 20):
        order = {
            'orderId': i,
            'customerName': f'Customer {i}',
            'amount': i * 10.0,
            'status': 'Pending'
        }
        try:
            call('POST', '/v1.0/publish/orderpubsub/orders', json.dumps(order).encode(), 'application/json')
            logging.info('Published data: %s', json.dumps(order))
        except Exception as e:
            logging.error('Error publishing data: %s', str(e))

        time.sleep(interval)


if __name__ == '__main__':
    main()
