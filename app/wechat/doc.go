// Package wechat is a client for the WeChat Open Platform third-party
// platform ("component") APIs used to manage authorized Mini Programs, and a
// parser for the pushes WeChat sends to the platform.
//
// It knows nothing about storage: tokens come from a TokenSource that the
// caller implements, and pushes are decrypted with package msgcrypt before
// ParsePush turns them into typed values. The wire protocol is described in
// docs shared with the team (wechat-protocol.md); section numbers (§) in
// comments refer to it.
package wechat
