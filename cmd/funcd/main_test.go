package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExitCodesAndMessages(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"no command", nil, exitUsage, "Usage: funcd <command>"},
		{"help", []string{"help"}, exitOK, "Commands:"},
		{"unknown command", []string{"deploy"}, exitUsage, `unknown command "deploy"`},
		{"up help", []string{"up", "-h"}, exitOK, "Examples:"},
		{"up bad flag", []string{"up", "--nope"}, exitUsage, "flag provided but not defined"},
		{"up bad port", []string{"up", "--port", "70000"}, exitUsage, "is not a port number"},
		{"up bad grpc port", []string{"up", "--grpc-port", "-2"}, exitUsage, "--grpc-port -2 is not a port number"},
		{"up cpu profile in a file", []string{"up", "--dir", "/nonexistent", "--port", "0", "--cpu-profile", "/dev/null/x"}, exitFailure, "cpu profile"},
		{"up execution trace in a file", []string{"up", "--dir", "/nonexistent", "--port", "0", "--exec-trace", "/dev/null/x"}, exitFailure, "execution trace"},
		{"up bad log level", []string{"up", "--log-level", "loud"}, exitUsage, "--log-level"},
		{"up negative idle", []string{"up", "--idle", "-1s"}, exitUsage, "--idle"},
		{"up bad fsync", []string{"up", "--fsync", "never"}, exitUsage, `--fsync "never": want always or an interval`},
		{"up no topics", []string{"up", "--max-topics", "0"}, exitUsage, "--max-topics 0: want 1 or more"},
		{"up missing folder", []string{"up", "--dir", "/nonexistent", "--port", "0"}, exitFailure, "does not exist"},
		{"invoke without function", []string{"invoke"}, exitUsage, "name exactly one function"},
		{"invoke data and file", []string{"invoke", "checkout", "--data", "x", "--file", "y"}, exitUsage, "not both"},
		{"publish without topic", []string{"publish"}, exitUsage, "--topic is required"},
		{"invoke nothing listening", []string{"invoke", "checkout", "--url", "http://127.0.0.1:1"}, exitFailure, "is funcd up running?"},
		{"status nothing listening", []string{"status", "--url", "http://127.0.0.1:1"}, exitFailure, "is funcd up running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr: %s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestInvokeSendsCloudEvent(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantHeader map[string]string
	}{
		{"binary", []string{"--data", `{"orderId":1}`, "--type", "com.example.order", "--id", "x-1"},
			map[string]string{"Ce-Type": "com.example.order", "Ce-Id": "x-1", "Content-Type": "application/json"}},
		{"structured", []string{"--data", `{"orderId":1}`, "--structured"},
			map[string]string{"Content-Type": "application/cloudevents+json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Clone(context.Background())
				w.Header().Set("Ce-Id", "reply-1")
				_, _ = w.Write([]byte(`{"ok":true}`))
			}))
			defer srv.Close()
			var stdout, stderr bytes.Buffer
			args := append([]string{"invoke", "checkout", "--url", srv.URL}, tt.args...)
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit code = %d, stderr: %s", code, stderr.String())
			}
			if got.URL.Path != "/checkout" {
				t.Errorf("path = %q, want /checkout", got.URL.Path)
			}
			for k, v := range tt.wantHeader {
				if g := got.Header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if !strings.Contains(stdout.String(), "200 OK") || !strings.Contains(stdout.String(), "ce-id: reply-1") {
				t.Errorf("stdout = %q, want the status and the reply", stdout.String())
			}
		})
	}
}

func TestPublishReportsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.0/publish/orderpubsub/orders" {
			t.Errorf("path = %q", r.URL.Path)
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errorCode":"ERR_PUBSUB_NOT_FOUND"}`))
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"publish", "--url", srv.URL, "--topic", "orders", "--data", "{}"}, &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "ERR_PUBSUB_NOT_FOUND") {
		t.Errorf("exit %d, stderr %q; want 1 and the daprd error code", code, stderr.String())
	}
}
