package model

import "strconv"

// ErrAction is what to do after a WeChat errcode, so a failure never leaves
// a release without a next step. Exactly one of Retry, Wait, Stop is set.
type ErrAction struct {
	Key   string // translation key, "wechat.err.<code>", explaining the action
	Retry bool   // transient: try the same call again now (with backoff)
	Wait  bool   // WeChat is busy with it or a quota is spent: wait, then check or retry; never re-commit
	Stop  bool   // a person must fix something first (config, category, account, authorization)
}

type errVerb int8

const (
	retry errVerb = iota + 1
	wait
	stop
)

// errVerbs covers every errcode of wechat-protocol.md §6, §7.1, §8 and §10.
var errVerbs = map[int]errVerb{
	-1: retry, // system busy
	// Tokens: the client refreshes and retries once; reaching us means it did not heal.
	40001: retry, 40014: retry, 42001: retry, 41001: stop, 40013: stop, 40029: stop,
	40125: stop, 41004: stop,
	44002: stop, 47001: stop, 47002: stop, // our request was malformed: a bug to fix
	45009: wait,              // daily API quota
	40005: stop, 40006: stop, // an audit media file WeChat refuses (type, size)
	40007: retry, // a media id expired: the next attempt uploads it again
	48001: stop, 48006: stop,
	61003: stop, 61004: stop, 61007: stop, 61009: stop, 61010: stop, 61011: stop,
	61023: stop, 61024: stop, // re-authorization or platform settings
	61005: wait, 61006: wait, // the next ticket push heals it
	61039: wait,                                        // privacy scan running: poll, do not re-commit (that restarts it)
	61040: stop,                                        // privacy API used but not declared or not in the guideline
	85001: stop, 85002: stop, 85003: stop, 85004: stop, // testers
	85006: stop, 85007: stop, 85008: stop, 85010: stop, 85011: stop, 85023: stop, 85077: stop, // audit items and category
	85009: wait,              // an audit is already in flight: reconcile with get_latest_auditstatus
	85012: stop, 85058: stop, // unknown audit id / never submitted
	85013: stop, 85014: stop, 85043: stop, 85044: stop, 85045: stop, 85046: stop, 85047: stop, 85048: stop, // commit / ext_json
	85015: stop, 85016: stop, 85017: stop, 85018: stop, // server domains
	85019: stop, 85020: stop,
	85052: wait,              // already released: reconcile, it is live
	85064: stop, 85065: stop, // template library
	85079: stop, 85080: stop, 85081: stop, 85082: stop, // gray release
	85085: wait, // monthly audit quota spent (shared by every app)
	85086: stop, // nothing committed: commit again
	85087: stop, // navigateToMiniProgram appids undeclared
	85094: stop, // ugc_declare required (first submission in a social category)
	86000: stop, 86001: stop, 86002: stop, 86009: stop, 86010: stop,
	86071: stop, 86074: stop,
	87011: stop, // rollback blocked by a phased release: revert or finish it first
	87012: stop,
	87013: wait, // undo quota (5/day, 10/month)
	87014: stop,
	89019: stop, 89020: stop, 89021: stop, 89029: stop, 89231: stop, // webview domains
	89247: retry, 89250: retry, 89248: stop, 89249: wait,
	89401: wait, 89402: stop, 89403: stop, 89404: stop, 89405: wait, // speed-up
	999: stop, // privacy guideline does not cover the code (reported by some audits)
}

// ErrActionFor maps an errcode to the next action. 0 means the call failed
// without an errcode (network, timeout, bad response): retry. Unknown codes
// stop with a generic key that shows the code.
func ErrActionFor(errcode int) ErrAction {
	if errcode == 0 {
		return ErrAction{Key: "wechat.err.transport", Retry: true}
	}
	v, ok := errVerbs[errcode]
	if !ok {
		return ErrAction{Key: "wechat.err.unknown", Stop: true}
	}
	a := ErrAction{Key: "wechat.err." + strconv.Itoa(errcode)}
	switch v {
	case retry:
		a.Retry = true
	case wait:
		a.Wait = true
	default:
		a.Stop = true
	}
	return a
}

// KnownErrcode reports whether errcode has its own action.
func KnownErrcode(errcode int) bool { _, ok := errVerbs[errcode]; return ok }
