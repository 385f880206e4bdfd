package wire

// Pretty appends to dst the Jackson DefaultPrettyPrinter form of the compact
// JSON in src, which is what the MongoDB Cloud services send for
// pretty=true: two-space indentation, `"key" : value`, arrays kept on the
// line of their brackets (`[ {`, `}, {`, `} ]`, `[ "a", "b" ]`), `[ ]` and
// `{ }` for empty containers, and no trailing newline.
//
// src must be well-formed compact JSON (no insignificant white space), as
// every representation in this project produces; Pretty does not validate.
func Pretty(dst, src []byte) []byte {
	// Jackson indents by object nesting only: arrays are "inline" and do not
	// deepen the indentation of the objects inside them.
	depth := 0
	var stack [32]bool // true where the innermost open container is an array
	sp := 0
	push := func(isArray bool) {
		if sp < len(stack) {
			stack[sp] = isArray
		}
		sp++
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{':
			if i+1 < len(src) && src[i+1] == '}' {
				dst = append(dst, "{ }"...)
				i++
				continue
			}
			depth++
			push(false)
			dst = append(dst, '{')
			dst = newline(dst, depth)
		case '}':
			depth--
			sp--
			dst = newline(dst, depth)
			dst = append(dst, '}')
		case '[':
			if i+1 < len(src) && src[i+1] == ']' {
				dst = append(dst, "[ ]"...)
				i++
				continue
			}
			push(true)
			dst = append(dst, '[', ' ')
		case ']':
			sp--
			dst = append(dst, ' ', ']')
		case ':':
			dst = append(dst, ' ', ':', ' ')
		case ',':
			dst = append(dst, ',')
			if sp > 0 && sp <= len(stack) && stack[sp-1] {
				dst = append(dst, ' ')
			} else {
				dst = newline(dst, depth)
			}
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func newline(b []byte, depth int) []byte {
	b = append(b, '\n')
	for ; depth > 0; depth-- {
		b = append(b, ' ', ' ')
	}
	return b
}
