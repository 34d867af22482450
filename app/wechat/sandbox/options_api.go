package sandbox

import (
	"slices"
	"strconv"
)

// Authorizer options (OA-oriented, protocol doc §3.1) and their allowed values.
var optionValues = map[string][]string{
	"location_report":  {"0", "1", "2"},
	"voice_recognize":  {"0", "1"},
	"customer_service": {"0", "1"},
}

func validOption(name, value string) bool { return slices.Contains(optionValues[name], value) }

func (a *app) option(name string) string {
	if v, found := a.options[name]; found {
		return v
	}
	return "0"
}

// optionBody accepts option_value as a string or a number.
type optionBody struct {
	ComponentAppID string   `json:"component_appid"`
	AppID          string   `json:"authorizer_appid"`
	Name           string   `json:"option_name"`
	Value          *flexStr `json:"option_value"`
}

type flexStr string

func (f *flexStr) UnmarshalJSON(b []byte) error {
	var n flexInt
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = flexStr(strconv.FormatInt(int64(n), 10))
	return nil
}

// legacyOptionApp resolves the authorizer of the legacy component-token endpoints.
func (s *Sandbox) legacyOptionApp(c *call, req *optionBody) (*app, *apiError) {
	if e := c.decode(req); e != nil {
		return nil, e
	}
	if e := c.checkComponentAppID(req.ComponentAppID); e != nil {
		return nil, e
	}
	a := s.apps[req.AppID]
	if a == nil || !a.authorized {
		return nil, fail(61003)
	}
	if _, known := optionValues[req.Name]; !known {
		return nil, failMsg(47001, "data format error: unknown option_name")
	}
	return a, nil
}

func (s *Sandbox) apiGetAuthorizerOptionLegacy(c *call) any {
	var req optionBody
	a, e := s.legacyOptionApp(c, &req)
	if e != nil {
		return e
	}
	return struct {
		AppID string `json:"authorizer_appid"`
		Name  string `json:"option_name"`
		Value string `json:"option_value"`
	}{a.appID, req.Name, a.option(req.Name)}
}

func (s *Sandbox) apiSetAuthorizerOptionLegacy(c *call) any {
	var req optionBody
	a, e := s.legacyOptionApp(c, &req)
	if e != nil {
		return e
	}
	return setOption(a, &req)
}

func setOption(a *app, req *optionBody) any {
	if req.Value == nil || !validOption(req.Name, string(*req.Value)) {
		return failMsg(47001, "data format error: invalid option_value")
	}
	a.options[req.Name] = string(*req.Value)
	return nil
}

// The current endpoints carry no appid, so they need the authorizer token
// (the English doc and WxJava; the Chinese doc's component token cannot name an app).
func (s *Sandbox) apiGetAuthorizerOption(c *call) any {
	var req optionBody
	if e := c.decode(&req); e != nil {
		return e
	}
	if _, known := optionValues[req.Name]; !known {
		return failMsg(47001, "data format error: unknown option_name")
	}
	return struct {
		okEnvelope
		Name  string `json:"option_name"`
		Value string `json:"option_value"`
	}{ok(), req.Name, c.app.option(req.Name)}
}

func (s *Sandbox) apiSetAuthorizerOption(c *call) any {
	var req optionBody
	if e := c.decode(&req); e != nil {
		return e
	}
	if _, known := optionValues[req.Name]; !known {
		return failMsg(47001, "data format error: unknown option_name")
	}
	return setOption(c.app, &req)
}
