package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/minifleet/minifleet/app/config"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// sandboxReview is how long the emulator's privacy scan and audits take
// in sandbox mode, and its monthly audit quota: short, so a demo campaign
// over a dozen apps runs to done in a minute or two (WeChat takes hours).
var sandboxReview = struct {
	Scan, Audit time.Duration
	Quota       int
}{Scan: 5 * time.Second, Audit: 15 * time.Second, Quota: 100}

// sandboxRig is the WeChat emulator wired to this process in sandbox mode.
type sandboxRig struct {
	sb     *sandbox.Sandbox
	assets string // the emulator's image base (its head_img URLs start with it)
}

// sandboxCredentials derives stable fake component credentials from the
// secret key, so tokens stored in one run still match the next run's emulator.
func sandboxCredentials(key []byte) config.WeChat {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("minifleet sandbox " + label))
		return m.Sum(nil)
	}
	aes := base64.StdEncoding.EncodeToString(derive("aes"))[:43]
	return config.WeChat{
		ComponentAppID:  "wx" + hex.EncodeToString(derive("appid"))[:16],
		ComponentSecret: hex.EncodeToString(derive("secret")),
		Token:           hex.EncodeToString(derive("token"))[:32],
		AESKey:          alnum(aes),
	}
}

// alnum maps base64's + and / into letters: EncodingAESKey is [a-zA-Z0-9]{43}.
func alnum(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '+':
			b[i] = 'p'
		case '/':
			b[i] = 's'
		}
	}
	return string(b)
}

// loopback turns a listen address such as ":8080" into a dialable one.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// newSandboxRig builds the emulator and points cfg's WeChat settings at it:
// the server talks to it over loopback, browsers through BaseURL/sandbox.
func newSandboxRig(cfg *config.Config, log *slog.Logger, listenAddr string) (*sandboxRig, error) {
	creds := sandboxCredentials(cfg.SecretKey)
	internal := "http://" + loopback(listenAddr)
	public := cfg.BaseURL + "/sandbox"
	host := ""
	if u, err := url.Parse(cfg.BaseURL); err == nil {
		host = u.Hostname()
	}
	sb, err := sandbox.New(sandbox.Options{
		ComponentAppID:      creds.ComponentAppID,
		ComponentSecret:     creds.ComponentSecret,
		Token:               creds.Token,
		EncodingAESKey:      creds.AESKey,
		ComponentEventsURL:  internal + paths.WeChatComponentEvents,
		AppEventsURL:        internal + paths.WeChatAppEvents("$APPID$"),
		AllowedEntryHost:    host,
		PublicBase:          public,
		AssetBase:           internal + "/sandbox", // head_img: the avatar proxy asks the emulator in process (web.Deps.SandboxAssets)
		Logger:              log.With("component", "sandbox"),
		PrivacyScanDuration: sandboxReview.Scan,
		AuditDelay:          sandboxReview.Audit,
		AuditQuota:          sandboxReview.Quota,
	})
	if err != nil {
		return nil, err
	}
	creds.APIBase = internal + "/sandbox"
	creds.MPBase, creds.OpenBase = public, public
	cfg.WeChat = creds
	return &sandboxRig{sb: sb, assets: internal + "/sandbox"}, nil
}

func (r *sandboxRig) run(ctx context.Context, log *slog.Logger) {
	if err := r.sb.Start(ctx); err != nil && ctx.Err() == nil {
		log.Error("sandbox stopped", "err", err)
	}
}
