package mongowire

import (
	"bytes"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// matcher is a parsed query filter: the subset of MongoDB's query
// language that oplog readers use. Equality on a field, dotted paths into
// embedded documents (o.checkpointToken.checkpointId), $eq, $ne, $gt,
// $gte, $lt, $lte, $in, $nin, $exists, and $and/$or/$nor. Anything else
// is refused with BadValue, as the server refuses an unknown operator, so
// that a reader relying on more fails here rather than against a real
// server.
type matcher func(doc bson.Raw) bool

func compileFilter(filter bson.Raw) (matcher, error) {
	elems, err := filter.Elements()
	if err != nil {
		return nil, errFailedToParse("filter: %v", err)
	}
	var ms []matcher
	for _, e := range elems {
		m, err := compileElem(e.Key(), e.Value())
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return all(ms), nil
}

func all(ms []matcher) matcher {
	return func(doc bson.Raw) bool {
		for _, m := range ms {
			if !m(doc) {
				return false
			}
		}
		return true
	}
}

func compileElem(key string, v bson.RawValue) (matcher, error) {
	switch key {
	case "$and", "$or", "$nor":
		arr, ok := v.ArrayOK()
		if !ok {
			return nil, errBadValue("%s must be an array", key)
		}
		vals, _ := arr.Values()
		if len(vals) == 0 {
			return nil, errBadValue("$and/$or/$nor must be a nonempty array")
		}
		var ms []matcher
		for _, sub := range vals {
			d, ok := sub.DocumentOK()
			if !ok {
				return nil, errBadValue("$or/$and/$nor entries need to be full objects")
			}
			m, err := compileFilter(d)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		if key == "$and" {
			return all(ms), nil
		}
		return func(doc bson.Raw) bool {
			for _, m := range ms {
				if m(doc) {
					return key == "$or"
				}
			}
			return key == "$nor"
		}, nil
	}
	if strings.HasPrefix(key, "$") {
		return nil, errBadValue("unknown top level operator: %s", key)
	}
	path := strings.Split(key, ".")
	if d, ok := v.DocumentOK(); ok {
		if first, err := d.IndexErr(0); err == nil && strings.HasPrefix(first.Key(), "$") {
			return compileOps(path, d)
		}
	}
	return func(doc bson.Raw) bool { return equalAt(doc, path, v) }, nil
}

// compileOps compiles {field: {$op: value, ...}}.
func compileOps(path []string, ops bson.Raw) (matcher, error) {
	elems, _ := ops.Elements()
	var ms []matcher
	for _, e := range elems {
		op, arg := e.Key(), e.Value()
		var m matcher
		switch op {
		case "$eq":
			m = func(doc bson.Raw) bool { return equalAt(doc, path, arg) }
		case "$ne":
			m = func(doc bson.Raw) bool { return !equalAt(doc, path, arg) }
		case "$gt", "$gte", "$lt", "$lte":
			m = func(doc bson.Raw) bool {
				got, err := doc.LookupErr(path...)
				if err != nil {
					return false
				}
				c, ok := compare(got, arg)
				if !ok {
					return false
				}
				switch op {
				case "$gt":
					return c > 0
				case "$gte":
					return c >= 0
				case "$lt":
					return c < 0
				}
				return c <= 0
			}
		case "$in", "$nin":
			arr, ok := arg.ArrayOK()
			if !ok {
				return nil, errBadValue("%s needs an array", op)
			}
			vals, _ := arr.Values()
			m = func(doc bson.Raw) bool {
				for _, want := range vals {
					if equalAt(doc, path, want) {
						return op == "$in"
					}
				}
				return op == "$nin"
			}
		case "$exists":
			want := truthy(arg)
			m = func(doc bson.Raw) bool {
				_, err := doc.LookupErr(path...)
				return (err == nil) == want
			}
		default:
			return nil, errBadValue("unknown operator: %s", op)
		}
		ms = append(ms, m)
	}
	return all(ms), nil
}

func truthy(v bson.RawValue) bool {
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	if n, ok := asInt64(v); ok {
		return n != 0
	}
	return true
}

// equalAt reports whether the value at path equals want; a missing field
// equals null, and an array matches when one of its elements does.
func equalAt(doc bson.Raw, path []string, want bson.RawValue) bool {
	got, err := doc.LookupErr(path...)
	if err != nil {
		return want.Type == bson.TypeNull
	}
	if equal(got, want) {
		return true
	}
	if arr, ok := got.ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, v := range vals {
			if equal(v, want) {
				return true
			}
		}
	}
	return false
}

func equal(a, b bson.RawValue) bool {
	if c, ok := compare(a, b); ok {
		return c == 0
	}
	return a.Type == b.Type && bytes.Equal(a.Value, b.Value)
}

// compare orders two values of one comparable kind: numbers of any type
// against each other, strings, ObjectIds, booleans, dates, timestamps.
// Values of different kinds are not ordered (false), as $gt and its
// siblings match only within one type bracket.
func compare(a, b bson.RawValue) (int, bool) {
	if a.IsNumber() && b.IsNumber() {
		x, y := number(a), number(b)
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case bson.TypeString:
		return strings.Compare(a.StringValue(), b.StringValue()), true
	case bson.TypeObjectID:
		x, y := a.ObjectID(), b.ObjectID()
		return bytes.Compare(x[:], y[:]), true
	case bson.TypeBoolean:
		x, y := a.Boolean(), b.Boolean()
		switch {
		case x == y:
			return 0, true
		case y:
			return -1, true
		}
		return 1, true
	case bson.TypeDateTime:
		return cmpInt(a.DateTime(), b.DateTime()), true
	case bson.TypeTimestamp:
		at, ai := a.Timestamp()
		bt, bi := b.Timestamp()
		if at != bt {
			return cmpInt(int64(at), int64(bt)), true
		}
		return cmpInt(int64(ai), int64(bi)), true
	}
	return 0, false
}

func number(v bson.RawValue) float64 {
	switch v.Type {
	case bson.TypeInt32:
		return float64(v.Int32())
	case bson.TypeInt64:
		return float64(v.Int64())
	case bson.TypeDouble:
		return v.Double()
	}
	return 0 // Decimal128: not compared numerically by the simulation
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
