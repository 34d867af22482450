package web

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// sseEvent is one event an EventSource dispatches.
type sseEvent struct{ name, data string }

// parseEventStream follows the HTML standard's event stream interpretation
// (§9.2.6): lines end at CRLF, LF or a lone CR; an empty line dispatches
// the event (none when the data buffer is empty); a line starting with a
// colon is a comment; the field name is what precedes the first colon and
// one space after it is dropped; "data" appends the value and an LF,
// "event" sets the type; the data's last LF is removed at dispatch.
func parseEventStream(stream string) []sseEvent {
	stream = strings.TrimPrefix(stream, "\uFEFF")
	var out []sseEvent
	var name, data strings.Builder
	dispatch := func() {
		if data.Len() == 0 {
			name.Reset()
			return
		}
		d := strings.TrimSuffix(data.String(), "\n")
		n := name.String()
		if n == "" {
			n = "message"
		}
		out = append(out, sseEvent{n, d})
		name.Reset()
		data.Reset()
	}
	for len(stream) > 0 {
		i := strings.IndexAny(stream, "\r\n")
		if i < 0 { // an incomplete last line is discarded
			break
		}
		line := stream[:i]
		if stream[i] == '\r' && i+1 < len(stream) && stream[i+1] == '\n' {
			i++
		}
		stream = stream[i+1:]
		switch {
		case line == "":
			dispatch()
			continue
		case strings.HasPrefix(line, ":"):
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name.Reset()
			name.WriteString(value)
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
		}
	}
	return out
}

// TestSSEDataLineEnds: whatever line ends a fragment holds, it arrives as
// one event under its own name, its lines joined by LF (what EventSource
// makes of CRLF and CR), and nothing in it starts a field or an event.
func TestSSEDataLineEnds(t *testing.T) {
	frags := []string{
		"<p>plain</p>",
		"<p>a\rb</p>",
		"<td>desc\revent: evil\rdata: injected</td>",
		"one\r\ntwo\nthree\rfour",
		"a\r\n\r\nb\r\rc\n\nd", // blank lines inside data must not dispatch early
		"\r\revent: evil\r",
		" leading space and: a colon",
		"<ul>\n<li>x</li>\n</ul>\n",
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	w.WriteString("retry: 2000\n\n")
	for _, f := range frags {
		writeEvent(w, "release", f)
		w.WriteString(": ping\n\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := parseEventStream(buf.String())
	if len(got) != len(frags) {
		t.Fatalf("%d events, want %d:\n%q", len(got), len(frags), buf.String())
	}
	norm := strings.NewReplacer("\r\n", "\n", "\r", "\n")
	for i, f := range frags {
		want := norm.Replace(strings.TrimRight(f, "\r\n"))
		if got[i].name != "release" || got[i].data != want {
			t.Errorf("fragment %q arrived as event %q data %q, want release %q", f, got[i].name, got[i].data, want)
		}
	}
}
