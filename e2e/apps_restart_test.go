package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// restartingApp subscribes to "first" on its first start and to "second"
// once restarted (a file in its folder tells them apart); GET /crash makes
// it exit with status 3, so funcd restarts it.
const restartingApp = `import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOPIC = 'second' if os.path.exists('started') else 'first'
open('started', 'w').close()

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/dapr/subscribe':
            print('subscribed to %s' % TOPIC, flush=True)
            return self.reply(200, [{'pubsubname': 'orderpubsub', 'topic': TOPIC, 'route': '/events'}])
        if self.path == '/crash':
            self.reply(200, {})
            self.wfile.flush()
            os._exit(3)
        self.reply(404, {})

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)))
        print('received %s %s' % (event['topic'], event['data']['n']), flush=True)
        self.reply(200, {'status': 'SUCCESS'})

    def reply(self, code, body):
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, fmt, *args):
        pass

ThreadingHTTPServer(('127.0.0.1', int(os.environ['APP_PORT'])), Handler).serve_forever()
`

// TestDaprAppRestartRereadsSubscriptions crashes an app whose second start
// subscribes to another topic: funcd restarts it, reads GET
// /dapr/subscribe again and delivers the new topic, not the old one.
func TestDaprAppRestartRereadsSubscriptions(t *testing.T) {
	py := needPython(t)
	const token = "restart-token"
	appPort, httpPort := freePort(t), freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: restarting
    appDirPath: .
    appPort: %d
    daprHTTPPort: %d
    command: [%q, "app.py"]
`, appPort, httpPort, py), nil, nil)
	writeFile(t, filepath.Join(dir, "app.py"), restartingApp)
	f := startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	api := "http://" + addr(httpPort)
	seen := func(line string) func() bool {
		re := regexp.MustCompile(`restarting\s*\| ` + regexp.QuoteMeta(line) + `$`)
		return func() bool { return multiline(re, f.functionOutput()) }
	}
	waitFor(t, time.Minute, "the app subscribed to first", seen("subscribed to first"))
	publishJSON(t, api, token, "first", `{"n":1}`)
	waitFor(t, 30*time.Second, "first 1 delivered", seen("received first 1"))

	resp, err := http.Get("http://" + addr(appPort) + "/crash")
	if err == nil {
		resp.Body.Close()
	}
	waitFor(t, time.Minute, "the restarted app read again: subscribed to second", seen("subscribed to second"))
	publishJSON(t, api, token, "second", `{"n":2}`)
	waitFor(t, 30*time.Second, "second 2 delivered after the restart", seen("received second 2"))
	publishJSON(t, api, token, "first", `{"n":3}`)
	time.Sleep(3 * time.Second)
	if seen("received first 3")() {
		t.Errorf("an event on first reached the app after its new start subscribed to second only:\n%s", f.functionOutput())
	}
}

// multiline matches re against each line of out.
func multiline(re *regexp.Regexp, out string) bool {
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}
