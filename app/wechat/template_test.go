package wechat

import (
	"context"
	"encoding/json"
	"testing"
)

func TestTemplates(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok",
	  "draft_list":[{"draft_id":5,"user_version":"1.0","user_desc":"d","create_time":1}],
	  "template_list":[{"template_id":12,"draft_id":5,"user_version":"1.0","template_type":0}]}`))
	ctx := context.Background()
	drafts, err := c.TemplateDrafts(ctx)
	if err != nil || len(drafts) != 1 || drafts[0].DraftID != 5 {
		t.Errorf("TemplateDrafts = %+v, %v", drafts, err)
	}
	if err := c.AddToTemplate(ctx, 5, TemplateNormal); err != nil {
		t.Fatal(err)
	}
	var add map[string]any
	json.Unmarshal([]byte(fs.last(t).Body), &add)
	if add["draft_id"] != float64(5) || add["template_type"] != float64(0) {
		t.Errorf("addtotemplate body = %v", add)
	}
	list, err := c.Templates(ctx, TemplateNormal)
	if err != nil || len(list) != 1 || list[0].TemplateID != 12 {
		t.Errorf("Templates = %+v, %v", list, err)
	}
	if q := fs.last(t).Query; q.Get("template_type") != "0" || q.Get("access_token") != "C1" {
		t.Errorf("gettemplatelist query = %v", q)
	}
	if _, err := c.Templates(ctx, TemplateAny); err != nil {
		t.Fatal(err)
	}
	if q := fs.last(t).Query; q.Has("template_type") {
		t.Errorf("TemplateAny sent template_type: %v", q)
	}
	if err := c.DeleteTemplate(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if r := fs.last(t); r.Path != "/wxa/deletetemplate" || r.Body != `{"template_id":12}` {
		t.Errorf("deletetemplate %s %s", r.Path, r.Body)
	}
}
