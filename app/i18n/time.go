package i18n

import (
	"context"
	"time"
)

// Time formats t in the viewer's zone, e.g. "2026-11-21 21:41".
func Time(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	loc := time.UTC
	if l := From(ctx); l != nil {
		loc = l.Loc
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// ISO formats t for <time datetime>.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Ago says how long ago t was ("3 分钟前" / "3 minutes ago"), measured from now.
func Ago(ctx context.Context, t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var id string
	var n int64
	switch {
	case d < time.Minute:
		return T(ctx, "time.just_now")
	case d < time.Hour:
		id, n = "time.minutes", int64(d/time.Minute)
	case d < 24*time.Hour:
		id, n = "time.hours", int64(d/time.Hour)
	case d < 60*24*time.Hour:
		id, n = "time.days", int64(d/(24*time.Hour))
	default:
		return Time(ctx, t)
	}
	if future {
		id += "_later"
	} else {
		id += "_ago"
	}
	return T(ctx, id, "N", n)
}
