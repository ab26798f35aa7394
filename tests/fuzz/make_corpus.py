#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/{ndjson,csv}).

Each file is one fuzz input: a first byte that picks how the rest is cut into
chunks (fuzz_support.h: < 32 all at once, then pieces of up to 8, 64 or 512
bytes), then the text. Every rule of docs/INGEST.md has an input here, under
a name that says which. Files found by the fuzzer are added next to these by
hand (crash-*, named after what they found) and are not rewritten.

  tests/fuzz/make_corpus.py   # from the repository root
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

GOOD = ('{"event_id":"evt_1","user_id":"user_615","feature_id":"feature_16","product_version":"1.5.5",'
        '"event_type":"view","timestamp":"2025-05-11 10:23:03","session_id":"session_1",'
        '"metadata":"{\\"device\\":\\"desktop\\"}"}')
BASE = dict(event_id='"e1"', user_id='"u1"', feature_id='"f1"', product_version='"1.0.0"',
            event_type='"view"', timestamp='"2025-05-11 10:23:03"', session_id='"s1"', metadata='"m"')
OMIT = object()


def line(**overrides):
    fields = dict(BASE)
    for k, v in overrides.items():
        fields[k] = v
    return '{' + ','.join(f'"{k}":{v}' for k, v in fields.items() if v is not OMIT) + '}'


def pad(text):
    # A blank line long enough that the lines above it fit an iterate_many window.
    return text + ' ' * 70 + '\n'


NDJSON = {
    'valid_one_line': GOOD + '\n',
    'valid_no_final_newline': GOOD,
    'valid_crlf_and_blank_lines': pad(GOOD + '\r\n\r\n  \t\r\n' + GOOD + '\r\n'),
    'bom_at_start_and_mid': '\ufeff' + GOOD + '\n\ufeff' + GOOD + '\n',
    'unknown_keys_all_types': pad(line(x='{"a":[1,2.5,-3e10,true,false,null,"\\u00e9"]}', n='99999999999999999999', big='1e400') + '\n' + GOOD + '\n'),
    'null_optional': line(event_id='null', session_id='null', metadata='null') + '\n',
    'null_required': '\n'.join(line(**{c: 'null'}) for c in ['user_id', 'feature_id', 'product_version', 'event_type', 'timestamp']) + '\n',
    'missing_required': '\n'.join(line(**{c: OMIT}) for c in ['user_id', 'feature_id', 'product_version', 'event_type', 'timestamp']) + '\n{}\n',
    'empty_strings': line(user_id='""', event_id='""', metadata='""') + '\n',
    'metadata_object_array': pad(line(metadata='{ "a" : [ 1 , { "b c" : "d  e\\n" } ] }') + '\n' + line(metadata='[ ]') + '\n' + line(metadata='{}') + '\n'),
    'metadata_wrong_types': '\n'.join(line(metadata=v) for v in ['42', 'true', '-1.5']) + '\n',
    'string_columns_wrong_types': pad('\n'.join([line(user_id='7'), line(feature_id='{"a":1}'), line(event_type='[]'), line(session_id='false'), line(event_id='12')]) + '\n'),
    'timestamp_forms': pad('\n'.join(line(timestamp=v) for v in ['"2025-05-11T10:23:03"', '"2025-05-11T10:23:03.999Z"', '"2025-05-11T12:23:03+02:00"', '"2025-05-11T10:23:03\\u005a"', '1746958983', '0', '-0', '4291747199']) + '\n'),
    'timestamp_invalid': pad('\n'.join(line(timestamp=v) for v in ['"2025-13-01 00:00:00"', '"2025-02-29 00:00:00"', '"24:00:00"', '"1746958983"', '1.7e9', '1746958983.0', '1e400', '-1', '4291747200', '18446744073709551615', '-99999999999999999999999', 'true', '{}', '"1969-12-31T23:59:59Z"']) + '\n'),
    'escapes': line(user_id='"a\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\\u0000"', feature_id='"\\u4e2d"') + '\n',
    'key_with_escapes': line(user_id=OMIT, **{'user\\u005fid': '"u9"'}) + '\n' + line(**{'user\\u005fid': '"dup"'}) + '\n',
    'lone_surrogates': pad('\n'.join([line(user_id='"\\ud800"'), line(user_id='"\\udc00"'), line(x='"\\ud800\\u0041"'), line(metadata='{"k":"\\udfff"}'), '{"\\ud800":1}']) + '\n'),
    'bad_escapes_and_controls': '\n'.join([line(user_id='"\\x41"'), line(user_id='"\\u00g1"'), line(x='"\\q"'), line(user_id='"a\tb"'), line(user_id='"a\x00b"')]) + '\n',
    'duplicated_keys': pad('\n'.join(['{"user_id":"a","user_id":"b"}', GOOD[:-1] + ',"timestamp":"2025-05-11 10:23:03"}', GOOD[:-1] + ',"x":1,"x":2}']) + '\n'),
    'not_objects': '\n'.join(['[1,2]', '42', '"text"', 'true', 'null', '  [ ]  ', 'not json', 'nul', '12ab', '}']) + '\n',
    'trailing_text_two_objects': pad('\n'.join(['{"a":1} {"b":2}', GOOD + GOOD, GOOD + ' x', GOOD + ',', GOOD + '}', GOOD + ' 1']) + '\n' + GOOD + '\n'),
    'malformed_objects': pad('\n'.join(['{"a":1', '{"a":"1}', '{"a":1,}', '{"a" 1}', '{a:1}', '{"a":tru}', '{"a":nulls}', '{"a":01}', '{"a":1.}', '{"a":-}', '{"a":[1,2}']) + '\n' + GOOD + '\n'),
    'object_over_two_lines': pad(GOOD + '\n' + GOOD[:60] + '\n' + GOOD[60:] + '\n' + GOOD + '\n'),
    'object_split_at_comma': pad(GOOD + '\n' + GOOD[:GOOD.index(',') + 1] + '\n' + GOOD[GOOD.index(',') + 1:] + '\n' + GOOD + '\n'),
    'object_split_at_colon': pad(GOOD + '\n{"a":\n1}\n' + GOOD + '\n'),
    'many_bad_columns': '{"metadata":42,"timestamp":"2025-02-29 00:00:00","event_type":null,"feature_id":"","user_id":7}\n',
    'deep_nesting_ok': line(metadata='[' * 900 + ']' * 900) + '\n',
    'deep_nesting_too_deep': line(x='[' * 1100 + ']' * 1100) + '\n',
    'invalid_utf8_in_window': pad(GOOD + '\n' + line(user_id='"u\udcff"') + '\n' + GOOD + '\n'),
    'whitespace_only': ' \n\t\n\r\n   ',
    'empty_lines_only': '\n\n\n',
    'cr_in_middle': GOOD + '\r' + GOOD + '\n',
    'generated_lines': pad(''.join(GOOD.replace('evt_1', f'evt_{i}') + '\n' for i in range(10))),
    'numbers_everywhere': pad(line(x='[0,-0,1e5,1E-5,-1.25e+3,123456789012345678901234567890]') + '\n'),
    'leading_whitespace': pad('   ' + GOOD + '\n\t' + GOOD + '  \n'),
}

# Invalid UTF-8 cannot be written through Python str: these are bytes.
NDJSON_BYTES = {
    'invalid_utf8_variants': b'\n'.join(line(user_id='"X"').encode().replace(b'X', bad) for bad in
                                        [b'\xff', b'\xc0\xaf', b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'ab\xe2\x82']) + b'\n',
    'invalid_utf8_unknown_key': line(unknown='"\xff"').encode('latin-1') + b'\n',
    'partial_bom': b'\xef\xbb' + GOOD.encode() + b'\n',
    'nul_bytes': GOOD.encode() + b'\x00\n\x00\n' + GOOD.encode() + b'\n',
}

HEADER = 'event_id,user_id,feature_id,product_version,event_type,timestamp,session_id,metadata\n'
ROW = 'e1,u1,f1,1.0.0,view,2025-05-11 10:23:03,s1,m'

CSV = {
    'valid': HEADER + ROW + '\n',
    'no_final_newline': HEADER + ROW,
    'any_order_unknown_columns': 'extra,timestamp,event_type,product_version,feature_id,user_id\nzzz,2025-05-11 10:23:03,view,1.0.0,f1,u1\n',
    'header_trimmed_quoted': ' user_id ,"feature_id",product_version,\tevent_type,timestamp\r\nu1,f1,1.0.0,view,1746958983\r\n',
    'header_missing_columns': 'event_id,feature_id,product_version,event_type\ne1,f1,1.0.0,view\ne2,f1,1.0.0,view\n',
    'header_repeated_column': 'user_id,feature_id,product_version,event_type,timestamp,user_id\nu,f,1,v,1746958983,w\n',
    'header_malformed': '"user_id"x,feature_id\nu1,f1\n',
    'header_unterminated': '"user_id,feature_id\nu1,f1\n',
    'header_only': HEADER,
    'bom_blank_lines_crlf': '\ufeff\n' + HEADER + ROW + '\r\n\r\n \t \n' + ROW + '\n' + ROW,
    'quoted_fields': HEADER + '"e,1","say ""hi""","f\nwith\r\nnewlines",1.0.0,"view","2025-05-11 10:23:03","","{""a"":1}"\n',
    'multi_line_records': HEADER + 'e1,"u\n1",f1,1.0.0,view,2025-05-11 10:23:03,s1,"a\r\nb"\r\ne1,"u\n1",f1\n' + ROW + '\n',
    'trimming': HEADER + '  e1 ,\tu1\t," f1 ",1.0.0,view, 2025-05-11 10:23:03 ,s1,m\n',
    'quote_inside_unquoted': HEADER + 'e1,u"1,f1,1.0.0,view,2025-05-11 10:23:03,s1,m\n',
    'empty_values': HEADER + ',u1,f1,1.0.0,view,2025-05-11 10:23:03,,\ne1,,f1,"",view,,s1,m\n',
    'timestamps': HEADER + ''.join(f'e1,u1,f1,1.0.0,view,{t},s1,m\n' for t in ['2025-05-11T12:23:03+02:00', '1746958983', '"1746958983"', '0001746958983', '0', '4291747199', '4291747200', '99999999999999999999', '-1', '1.7e9', '+17', '2025-13-01 00:00:00']),
    'field_counts': HEADER + 'e1,u1,f1,1.0.0,view,2025-05-11 10:23:03,s1\n' + ROW + ',\nlonely\n',
    'text_after_quote': HEADER + 'e1,"u1"x,f1,1.0.0,view,2025-05-11 10:23:03,s1,m\n"a" ,b\n' + ROW + '\n',
    'unterminated_at_end': HEADER + ROW + '\ne1,"u1,f1\n' + ROW + '\n',
    'quote_then_cr_at_end': HEADER + 'e1,u1,f1,1.0.0,view,1746958983,s1,"m"\r',
    'empty': '',
    'blank_only': '\n \n\r\n',
}

CSV_BYTES = {
    'invalid_utf8': (HEADER + 'e1,uX,f1,1.0.0,view,2025-05-11 10:23:03,s1,m\n').encode().replace(b'X', b'\xff'),
    'invalid_utf8_unknown_column': b'user_id,feature_id,product_version,event_type,timestamp,x\nu,f,1,v,1746958983,\xc0\xaf\n',
}

CONTROLS = [0, 40, 100, 200, 250]


def write(directory, name, data, i):
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    body = bytes([CONTROLS[i % len(CONTROLS)]]) + data
    assert len(body) < 4096, name
    with open(os.path.join(directory, name), 'wb') as f:
        f.write(body)


def main():
    for corpus, sets in (('ndjson', (NDJSON, NDJSON_BYTES)), ('csv', (CSV, CSV_BYTES))):
        i = 0
        for entries in sets:
            for name, data in entries.items():
                write(os.path.join(HERE, 'corpus', corpus), name, data, i)
                i += 1


if __name__ == '__main__':
    main()
