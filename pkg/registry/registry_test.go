package registry

import (
	"net/http"
	"testing"
)

type recorder struct{ hosts []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Host)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	tests := []struct {
		url  string
		sent bool
	}{
		{"http://127.0.0.1:5000/v2/", true},
		{"http://localhost:5000/v2/", true},
		{"http://[::1]:5000/v2/", true},
		{"https://10.0.0.5:5000/v2/", true},
		{"https://registry.example.com/v2/", true},
		// A private address: the registry client would fall back to plain
		// HTTP there when HTTPS fails, credentials included.
		{"http://10.0.0.5:5000/v2/", false},
		{"http://192.168.1.20/v2/", false},
		{"http://registry.example.com/v2/", false},
	}
	for _, tt := range tests {
		next := &recorder{}
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = httpsBeyondLoopback{next}.RoundTrip(req)
		if sent := len(next.hosts) == 1; sent != tt.sent || (err == nil) != tt.sent {
			t.Errorf("GET %s: sent %t (error %v), want sent %t", tt.url, sent, err, tt.sent)
		}
	}
}
