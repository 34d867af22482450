package wechat

import "context"

// SendCustomText sends a text customer-service message to a user (openid)
// of the authorizer whose access token is given: the token comes straight
// from an api_query_auth answer, not from the TokenSource (WeChat's 全网发布
// test exchanges a code only it knows).
// Endpoint: POST /cgi-bin/message/custom/send.
func (c *Client) SendCustomText(ctx context.Context, authorizerToken, toUser, content string) error {
	type text struct {
		Content string `json:"content"`
	}
	r := post("/cgi-bin/message/custom/send", authAuthorizer, "", struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    text   `json:"text"`
	}{toUser, "text", text{content}})
	resp, err := c.send(ctx, r, authorizerToken)
	if err != nil {
		return err
	}
	return decodeJSON(r.path, resp.body, nil)
}
