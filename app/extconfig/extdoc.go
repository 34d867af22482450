package extconfig

// ExtDoc decodes an ext_json string for a diff, without the keys every
// commit sets per app (extAppid, extEnable); "" or an undecodable string
// is an empty document.
func ExtDoc(s string) map[string]any {
	if s == "" {
		return map[string]any{}
	}
	m, err := DecodeConfig([]byte(s))
	if err != nil {
		return map[string]any{}
	}
	delete(m, "extAppid")
	delete(m, "extEnable")
	return m
}
