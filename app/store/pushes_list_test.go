package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/store"
)

// The staff push list's filters (appid and outcome on partial indexes,
// migration 00013) list exactly what a plain reading says, newest first, and
// a push is identified by its CreateTime with its key: the same key at
// another CreateTime is another push, a retry at the same one a duplicate.
func TestListPushesFilters(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	outcomes := []string{store.PushApplied, store.PushQueued, store.PushRecorded, store.PushStale}
	type row struct{ kind, appid, outcome string }
	var all []row
	for i := range 60 {
		r := row{kind: []string{"component_verify_ticket", "authorized", "weapp_audit_success"}[i%3], outcome: outcomes[i%4]}
		if r.kind != "component_verify_ticket" {
			r.appid = fmt.Sprintf("wxapp%d", i%5)
		}
		in := store.NewPush{Route: store.RouteComponent, Kind: r.kind, AppID: r.appid, DedupeKey: fmt.Sprintf("key%d", i%30),
			CreateTime: int64(1700000000 + i), ReceivedAt: time.Unix(1700000000, 0), XML: "<xml/>"}
		if _, dup, err := st.RecordPush(ctx, in, func(*store.PushTx) (string, error) { return r.outcome, nil }); err != nil || dup {
			t.Fatalf("push %d: dup %v, %v", i, dup, err)
		}
		all = append(all, r)
	}
	// A retry of push 7: same CreateTime, same key.
	retry := store.NewPush{Route: store.RouteComponent, Kind: all[7].kind, AppID: all[7].appid, DedupeKey: "key7",
		CreateTime: 1700000007, ReceivedAt: time.Unix(1700000100, 0), XML: "<xml/>"}
	if _, dup, err := st.RecordPush(ctx, retry, nil); err != nil || !dup {
		t.Fatalf("retry: dup %v, %v", dup, err)
	}
	if p, err := st.PushByDedupeKey(ctx, 1700000007, "key7"); err != nil || p.Duplicates != 1 || p.Outcome != all[7].outcome {
		t.Fatalf("push 7 after its retry: %+v, %v", p, err)
	}
	for _, f := range []store.PushFilter{
		{}, {Kind: "authorized"}, {AppID: "wxapp2"}, {AppID: "wxapp2", Kind: "weapp_audit_success"},
		{Outcome: store.PushApplied}, {Outcome: store.PushStale}, {Outcome: store.PushQueued, AppID: "wxapp1"}, {AppID: "nobody"},
	} {
		var want []string
		for i := len(all) - 1; i >= 0; i-- {
			r := all[i]
			if (f.Kind == "" || r.kind == f.Kind) && (f.AppID == "" || r.appid == f.AppID) && (f.Outcome == "" || r.outcome == f.Outcome) {
				want = append(want, fmt.Sprint(1700000000+i))
			}
		}
		f.Limit = 100
		got, total, err := st.ListPushes(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var ids []string
		for _, p := range got {
			ids = append(ids, fmt.Sprint(p.CreateTime))
		}
		if total != len(want) || strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("%+v: total %d %v, want %d %v", f, total, ids, len(want), want)
		}
	}
	// The filters reach their partial indexes.
	for q, index := range map[string]string{
		`SELECT id FROM wechat_pushes WHERE appid = 'wxapp2' AND appid != '' ORDER BY id DESC`:           "wechat_pushes_app",
		`SELECT id FROM wechat_pushes WHERE outcome = 'stale' AND outcome != 'applied' ORDER BY id DESC`: "wechat_pushes_unapplied",
	} {
		var plan strings.Builder
		rows, err := st.R.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			plan.WriteString(d + "; ")
		}
		rows.Close()
		if !strings.Contains(plan.String(), index) {
			t.Errorf("%s: plan %q does not use %s", q, plan.String(), index)
		}
	}
}
