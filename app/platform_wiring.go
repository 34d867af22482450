package main

import (
	"log/slog"

	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// newPlatform builds the WeChat protocol layer over the store, talking to
// the hosts in cfg.WeChat (the emulator's in sandbox mode).
func newPlatform(cfg config.Config, st *store.Store, log *slog.Logger) (*platform.Platform, error) {
	w := cfg.WeChat
	c := wechat.New(w.ComponentAppID, w.ComponentSecret, nil)
	c.APIBase, c.MPBase, c.OpenBase = w.APIBase, w.MPBase, w.OpenBase
	return platform.New(platform.Config{
		Store: st, Client: c, Token: w.Token, AESKey: w.AESKey,
		Log: log.With("component", "platform"),
	})
}
