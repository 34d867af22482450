// Package msgcrypt implements WeChat's message crypto (WXBizMsgCrypt) as used
// on the Open Platform push URLs: SHA-1 signatures, AES-256-CBC with a
// 32-byte PKCS#7 block, and the <Encrypt> XML envelope.
//
// It imports only the standard library so that both the client and the
// emulator can share it without sharing wire structs.
package msgcrypt
