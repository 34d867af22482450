package model

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docCodes are the errcodes of wechat-protocol.md §6, §7.1, §8 and §10,
// copied by hand so the test runs without the shared docs.
var docCodes = []int{
	-1, 40001, 40013, 40014, 40029, 40125, 41001, 41004, 42001, 44002, 45009, 47001, 47002, 48001, 48006,
	61003, 61004, 61005, 61006, 61007, 61009, 61010, 61011, 61023, 61024, 61039, 61040,
	85001, 85002, 85003, 85004, 85006, 85007, 85008, 85009, 85010, 85011, 85012, 85013, 85014,
	85015, 85016, 85017, 85018, 85019, 85020, 85023, 85043, 85044, 85045, 85046, 85047, 85048,
	85052, 85058, 85064, 85065, 85077, 85079, 85080, 85081, 85082, 85085, 85086, 85087,
	86000, 86001, 86002, 86009, 86010, 86071, 86074, 87011, 87012, 87013, 87014,
	89019, 89020, 89021, 89029, 89231, 89247, 89248, 89249, 89250, 89401, 89402, 89403, 89404, 89405,
}

func TestErrActionEveryDocCode(t *testing.T) {
	for _, code := range docCodes {
		a := ErrActionFor(code)
		if !KnownErrcode(code) {
			t.Errorf("%d has no action of its own", code)
		}
		if a.Key != "wechat.err."+strconv.Itoa(code) {
			t.Errorf("%d key = %q", code, a.Key)
		}
		if n := b2i(a.Retry) + b2i(a.Wait) + b2i(a.Stop); n != 1 {
			t.Errorf("%d: %+v sets %d of retry/wait/stop, want exactly one", code, a, n)
		}
	}
}

// The codes the issue names, with the action the lessons call for.
func TestErrActionNamedCodes(t *testing.T) {
	for _, tc := range []struct {
		code             int
		retry, wait, sto bool
	}{
		{85009, false, true, false}, // already under review: reconcile, do not resubmit
		{85085, false, true, false}, // monthly quota: wait
		{61039, false, true, false}, // scan unfinished: wait, never re-commit
		{61040, false, false, true}, // declare privacy APIs
		{86002, false, false, true}, // merchant sets nickname/avatar/intro
		{85086, false, false, true}, // commit first
		{85045, false, false, true}, // ext_json path
		{87013, false, true, false}, // undo quota
		{-1, true, false, false},
		{42001, true, false, false},
	} {
		a := ErrActionFor(tc.code)
		if a.Retry != tc.retry || a.Wait != tc.wait || a.Stop != tc.sto {
			t.Errorf("%d = %+v", tc.code, a)
		}
	}
	if a := ErrActionFor(12345); a.Key != "wechat.err.unknown" || !a.Stop || KnownErrcode(12345) {
		t.Errorf("unknown code = %+v", a)
	}
	if a := ErrActionFor(0); a.Key != "wechat.err.transport" || !a.Retry {
		t.Errorf("no errcode = %+v", a)
	}
}

// When the shared protocol doc sits beside the repo (as in CI), every code
// it lists in the sections that concern releases must be mapped, so a code
// added to the doc fails here until it gets an action.
func TestErrActionCoversProtocolDoc(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/wechat-protocol.md")
	if err != nil {
		t.Skip("shared/wechat-protocol.md not beside the repo")
	}
	doc := string(raw)
	var text string
	for _, sec := range []string{"## 6.", "### 7.1", "## 8.", "## 10."} {
		i := strings.Index(doc, sec)
		if i < 0 {
			t.Fatalf("section %q not found", sec)
		}
		rest := doc[i+len(sec):]
		if j := strings.Index(rest, "\n## "); j >= 0 {
			rest = rest[:j]
		}
		if j := strings.Index(rest, "\n### "); sec == "### 7.1" && j >= 0 {
			rest = rest[:j]
		}
		text += rest
	}
	codes := map[int]bool{}
	// Ranges such as 85001–85004 and 89401…89405, then single codes.
	for _, m := range regexp.MustCompile(`\b([4-9]\d{4})\s*(?:–|…|-)\s*`+"`?"+`([4-9]\d{4})\b`).FindAllStringSubmatch(text, -1) {
		lo, _ := strconv.Atoi(m[1])
		hi, _ := strconv.Atoi(m[2])
		for c := lo; c <= hi && hi-lo < 20; c++ {
			codes[c] = true
		}
	}
	for _, m := range regexp.MustCompile(`\b([4-9]\d{4})\b`).FindAllStringSubmatch(text, -1) {
		c, _ := strconv.Atoi(m[1])
		codes[c] = true
	}
	if len(codes) < 60 {
		t.Fatalf("found only %d codes in the doc; parser broken?", len(codes))
	}
	for c := range codes {
		if !KnownErrcode(c) {
			t.Errorf("errcode %d from wechat-protocol.md has no action", c)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Every action key, and every state and event the release page names, is
// translated in both languages (the i18n test cannot see keys built at run time).
func TestReleaseKeysTranslated(t *testing.T) {
	var keys []string
	for code := range errVerbs {
		keys = append(keys, ErrActionFor(code).Key)
	}
	keys = append(keys, ErrActionFor(0).Key, ErrActionFor(123).Key)
	for _, s := range ReleaseStates {
		keys = append(keys, "release.state."+string(s))
	}
	for _, ev := range append(ReleaseEvents, EvCreate) {
		keys = append(keys, "release.event."+string(ev))
	}
	for _, k := range []CauseKind{CauseUser, CausePush, CausePoll, CauseSystem} {
		keys = append(keys, "release.cause."+string(k))
	}
	for _, lang := range []string{"en", "zh-CN"} {
		raw, err := os.ReadFile("../../locales/" + lang + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !strings.Contains(string(raw), "\n\""+k+"\" = ") {
				t.Errorf("%s: %q is missing", lang, k)
			}
		}
	}
}
