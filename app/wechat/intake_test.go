package wechat

import (
	"testing"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// TestIntakeVectorD runs the path a push takes: verify and decrypt the
// envelope of vector D (wechat-protocol.md §1.4), then parse it.
func TestIntakeVectorD(t *testing.T) {
	const (
		body         = "<xml><AppId><![CDATA[wx2c2769f8efd9abc2]]></AppId><Encrypt><![CDATA[jn1L23DB+6ELqJ+6bruv2yHmq6mx9/dumlDSDRZcLzugMHiAq7IwhwskEpapjPZbU+/5QXi2NDkOA/ClPMmg22H+eDrTTMMYw8uM7VlmN2a1B0YM3BDv9M0FxYKfamcWTEBDjYRdw6Na9DQFL0Ok2caDYJyPWUKtA+5JlGyqNI5AhqmoZx/Ea5mnKKy+rbGhjODEwXXewbk61hBKf4HYl1v/UJyuJsOPPY5KjIkvoYDZdDjyKh8dO7GTpCVwgUFlpJ31L3IOMC40w+NyEJMMmXleKu6HEkh5WgQmEAuPv2ZWhAuDqgiRk3Svp1ORRs2aFHT4vdduv8LJdos6tv4ouXAe3tyARTBAIsGLkt08prSztqPyLCuYGDx5dMOqltV+]]></Encrypt></xml>"
		msgSignature = "d041aad24a782661cfaed8c80868157420fc59a6"
	)
	c, err := msgcrypt.New("spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.OpenPush([]byte(body), "1413192605", "1320562132", msgSignature)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePush(plain)
	if err != nil {
		t.Fatal(err)
	}
	tk, ok := p.(*ComponentVerifyTicket)
	if !ok || tk.Ticket != "ticket@@@test" || tk.AppID != c.AppID() || tk.CreateTime != 1413192605 {
		t.Errorf("push = %T %+v", p, p)
	}
}
