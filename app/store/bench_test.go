package store_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// BenchmarkReleaseSteps is the store's share of one app's release as a
// campaign drives it: a draft, five transitions (two carrying what the step
// collected, as TxOps) and the reads the pipeline and its page make
// between them. Per op: one app.
func BenchmarkReleaseSteps(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	u, tn, err := st.Signup(ctx, model.User{Email: "dev@bench.test", Name: "Dev", PasswordHash: "h"}, "面馆", "")
	if err != nil {
		b.Fatal(err)
	}
	who := model.Actor{UserID: u.ID, Label: u.Email}
	steps := []model.ReleaseEvent{model.EvCommit, model.EvCommitOK, model.EvScan, model.EvScanDone, model.EvPreflightOK}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		appID := fmt.Sprintf("wxbench%09d", i)
		if err := st.EnsureAuthorizer(ctx, appID); err != nil {
			b.Fatal(err)
		}
		r, err := model.NewRelease(tn.ID, appID, 1, model.ReleasePayload{TemplateID: 7, UserVersion: "1.0.0", UserDesc: "首个版本",
			ExtJSON: `{"ext":{"shopName":"面馆"},"extAppid":"` + appID + `","extEnable":true}`}, who, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if r, err = st.CreateRelease(ctx, tn.ID, r); err != nil {
			b.Fatal(err)
		}
		for _, ev := range steps {
			c := model.Cause{Kind: model.CauseSystem, Actor: "system", At: time.Now()}
			var ops []store.TxOp
			switch ev {
			case model.EvCommit:
				c = model.Cause{Kind: model.CauseUser, ActorID: u.ID, Actor: u.Email, At: time.Now()}
			case model.EvCommitOK:
				ops = append(ops, st.QROp(tn.ID, r.ID, []byte("png"), "image/png"))
			case model.EvScanDone:
				c.Kind = model.CausePoll
				ops = append(ops, st.ScanOp(tn.ID, r.ID, nil, nil))
			}
			if r, err = st.TransitionRelease(ctx, tn.ID, r.ID, ev, c, ops...); err != nil {
				b.Fatal(err)
			}
			if _, err := st.Release(ctx, tn.ID, r.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := st.OpenRelease(ctx, tn.ID, appID); err != nil {
				b.Fatal(err)
			}
			if _, err := st.ReleaseArtifacts(ctx, tn.ID, r.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := st.ReleaseEvents(ctx, tn.ID, r.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRecordPushes is the store's share of push intake: 32 senders
// recording ticket pushes (the batch's fast path) and, every fourth, a push
// with an apply func (its own savepoint). Per op: one push.
func BenchmarkRecordPushes(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	const senders = 32
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += senders {
				ct := int64(1700000000 + i)
				in := store.NewPush{Route: store.RouteComponent, Kind: "component_verify_ticket", DedupeKey: fmt.Sprintf("t%d", i), CreateTime: ct,
					ReceivedAt: time.Unix(ct, 0), XML: "<xml/>", FullXML: "<xml>ticket</xml>",
					Ticket: &store.TicketChange{ComponentAppID: "wxc", Ticket: fmt.Sprintf("ticket@@@%d", i), CreateTime: ct}}
				var apply store.PushApply
				if i%4 == 3 {
					in.Ticket, in.Kind = nil, "test"
					apply = func(*store.PushTx) (string, error) { return store.PushApplied, nil }
				}
				if _, _, err := st.ReceivePush(ctx, func() (store.NewPush, store.PushApply, error) { return in, apply, nil }); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
