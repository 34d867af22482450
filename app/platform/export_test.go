package platform

import "github.com/minifleet/minifleet/app/store"

// OnAppPush replaces the push table's row for kind on the per-app URL, so a
// test can make a push's state change fail. Call it before pushes arrive.
func (in *Intake) OnAppPush(kind string, h PushHandler) {
	in.handlers[pushKey{store.RouteApp, kind}] = pushAction{apply: h}
}
