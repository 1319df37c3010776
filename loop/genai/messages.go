package genai

import (
	"encoding/json"
	"strings"
)

// Messages reads a chat history in any of the shapes GenAI instrumentations
// record it, given as the attribute's raw value (a string, or structured
// values as []any and map[string]any):
//
//   - the current semantic conventions (gen_ai.input.messages,
//     gen_ai.output.messages): an array of {"role", "parts": [{"type":
//     "text", "content"}]}, structured or as a JSON string;
//   - the older chat shape: an array of {"role", "content"} where content
//     is a string or an array of {"type": "text", "text"} parts;
//   - a single such message, or {"message": {...}} as gen_ai.choice has;
//   - plain text (gen_ai.prompt, gen_ai.completion): one message with
//     defaultRole.
//
// Parts that are not text (tool calls, images) are skipped; a message with
// no text is kept with empty Text so that its place in the history stays.
func Messages(v any, defaultRole string) []Message {
	switch x := v.(type) {
	case string:
		t := strings.TrimSpace(x)
		if len(t) > 0 && (t[0] == '[' || t[0] == '{') {
			var parsed any
			if json.Unmarshal([]byte(t), &parsed) == nil {
				if msgs := Messages(parsed, defaultRole); msgs != nil {
					return msgs
				}
			}
		}
		if x == "" {
			return nil
		}
		return []Message{{Role: defaultRole, Text: x}}
	case []any:
		var out []Message
		for _, el := range x {
			switch m := el.(type) {
			case map[string]any:
				if msg, ok := message(m, defaultRole); ok {
					out = append(out, msg)
				}
			case string:
				out = append(out, Message{Role: defaultRole, Text: m})
			}
		}
		if out == nil {
			return nil
		}
		return out
	case map[string]any:
		if msg, ok := message(x, defaultRole); ok {
			return []Message{msg}
		}
	}
	return nil
}

// message reads one message object; ok is false when it is not one.
func message(m map[string]any, defaultRole string) (Message, bool) {
	if inner, ok := m["message"].(map[string]any); ok { // gen_ai.choice body
		return message(inner, defaultRole)
	}
	role, _ := m["role"].(string)
	if role == "" {
		role = defaultRole
	}
	role = strings.ToLower(role)
	if role == "human" {
		role = "user"
	}
	if parts, ok := m["parts"].([]any); ok {
		return Message{Role: role, Text: partsText(parts)}, true
	}
	switch c := m["content"].(type) {
	case string:
		return Message{Role: role, Text: c}, true
	case []any:
		return Message{Role: role, Text: partsText(c)}, true
	}
	if _, ok := m["role"]; ok {
		return Message{Role: role}, true
	}
	return Message{}, false
}

// partsText joins the text parts of a message.
func partsText(parts []any) string {
	var texts []string
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			texts = append(texts, x)
		case map[string]any:
			typ, _ := x["type"].(string)
			if typ != "" && typ != "text" {
				continue
			}
			if s, ok := x["content"].(string); ok {
				texts = append(texts, s)
			} else if s, ok := x["text"].(string); ok {
				texts = append(texts, s)
			}
		}
	}
	return strings.Join(texts, "\n")
}
