package wechat

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Media is a file WeChat serves as bytes (an image).
type Media struct {
	Body        []byte
	ContentType string
}

// Material fetches a permanent material of the authorizer appID by media
// id. Audit rejections name their screenshots this way (weapp_audit_fail
// ScreenShot, get_auditstatus screenshot: '|'-separated media ids "fetched
// via the permanent-material API", wechat-protocol.md §5). Only images are
// accepted: a JSON body is WeChat's error (40007 for an unknown id), any
// other content is ErrBadResponse.
// Endpoint: POST /cgi-bin/material/get_material {"media_id"}.
func (c *Client) Material(ctx context.Context, appID, mediaID string) (*Media, error) {
	const api = "/cgi-bin/material/get_material"
	r := post(api, authAuthorizer, appID, map[string]string{"media_id": mediaID})
	var m *Media
	err := c.withToken(ctx, r, func(token string) error {
		resp, err := c.send(ctx, r, token)
		if err != nil {
			return err
		}
		body, ct, err := imageBody(api, resp)
		if err != nil {
			return err
		}
		m = &Media{Body: body, ContentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// imageBody checks that a binary answer is an image, by its bytes (a JSON
// errcode body is decoded into WeChat's error).
func imageBody(api string, resp *response) ([]byte, string, error) {
	if b := bytes.TrimSpace(resp.body); len(b) > 0 && b[0] == '{' {
		if err := decodeJSON(api, b, nil); err != nil {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("wechat %s: %w: JSON instead of an image", api, ErrBadResponse)
	}
	ct := http.DetectContentType(resp.body)
	if !strings.HasPrefix(ct, "image/") {
		return nil, "", fmt.Errorf("wechat %s: %w: content type %q", api, ErrBadResponse, ct)
	}
	return resp.body, ct, nil
}
