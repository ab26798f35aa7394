#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/{ndjson,csv,jwt,form,multipart}).

Each file is one fuzz input: a first byte that picks how the rest is cut into
chunks (fuzz_support.h: < 32 all at once, then pieces of up to 8, 64 or 512
bytes), then the text. Every rule of docs/INGEST.md has an input here, under
a name that says which. Files found by the fuzzer are added next to these by
hand (crash-*, named after what they found) and are not rewritten.

The HTTP targets read their first byte as a mode (see each *_fuzzer.cc):
jwt: < 128 a token, else "HEADER\nPAYLOAD" signed by the target; form: < 128
form text, else a request target; multipart: odd a raw body with boundary
"b", even a file's content wrapped in a well-formed body.

  tests/fuzz/make_corpus.py   # from the repository root
"""
import base64
import hashlib
import hmac
import json
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

# ---- the HTTP API's parsers ---------------------------------------------------

JWT_KEY = b'fuzz-key'  # jwt_fuzzer.cc signs and verifies with it
EXP = 1760000000       # after its "now", 1750000000


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def jwt(header, payload, key=JWT_KEY):
    text = b64url(json.dumps(header).encode()) + '.' + b64url(json.dumps(payload).encode())
    return text + '.' + b64url(hmac.new(key, text.encode(), hashlib.sha256).digest())


HS256 = {'alg': 'HS256', 'typ': 'JWT'}
PINNED = {'name': 'frontend_u1', 'exp': EXP, 'limits': {'rps': 10},
          'scopes': [{'type': 'PIPES:READ', 'resource': 'user_feature_usage', 'fixed_params': {'user_id': 'u1', 'n': 3}},
                     {'type': 'DATASOURCES:APPEND', 'resource': 'feature_events'}]}
JWT_TOKENS = {  # first byte < 128: verified as is
    'valid_pinned': jwt(HS256, PINNED),
    'valid_minimal': jwt(HS256, {'name': 'n', 'exp': EXP}),
    'expired': jwt(HS256, {'name': 'n', 'exp': 1700000000}),
    'exp_string': jwt(HS256, {'name': 'n', 'exp': str(EXP)}),
    'no_name': jwt(HS256, {'exp': EXP}),
    'alg_none': jwt({'alg': 'none'}, {'name': 'n', 'exp': EXP}),
    'alg_none_unsigned': jwt({'alg': 'none'}, {'name': 'n', 'exp': EXP}).rsplit('.', 1)[0] + '.',
    'alg_hs512': jwt({'alg': 'HS512'}, {'name': 'n', 'exp': EXP}),
    'other_key': jwt(HS256, {'name': 'n', 'exp': EXP}, b'another key'),
    'filter_scope': jwt(HS256, {'name': 'n', 'exp': EXP, 'scopes': [{'type': 'DATASOURCES:READ', 'resource': 'x', 'filter': 'a=1'}]}),
    'not_base64': 'a.b!.c',
    'two_parts': 'eyJhbGciOiJIUzI1NiJ9.e30',
    'static_token': 'p.eyJ1IjogIjdmOTIwMmMzIn0',
}
JWT_SIGNED = {  # first byte >= 128: "HEADER\nPAYLOAD", signed by the target
    'signed_pinned': json.dumps(HS256) + '\n' + json.dumps(PINNED),
    'signed_payload_only': json.dumps({'name': 'n', 'exp': EXP + 0.5, 'nbf': 1}),
    'signed_nbf_future': json.dumps(HS256) + '\n' + json.dumps({'name': 'n', 'exp': EXP, 'nbf': EXP - 1}),
    'signed_crit': json.dumps({'alg': 'HS256', 'crit': ['b64']}) + '\n' + json.dumps({'name': 'n', 'exp': EXP}),
    'signed_bad_scopes': json.dumps(HS256) + '\n' + '{"name":"n","exp":1760000000,"scopes":[{"type":"PIPES:READ"}]}',
    'signed_not_json': json.dumps(HS256) + '\n' + '{"name":"n",',
    'signed_deep_params': json.dumps(HS256) + '\n' + '{"name":"n","exp":1760000000,"scopes":[{"type":"PIPES:READ","resource":"p","fixed_params":{"a":[1]}}]}',
}
FORM_TEXT = {  # first byte < 128
    'tutorial_query': 'name=feature_events&utm_source=DEV&utm_campaign=tb+create+--prompt+DEV',
    'delete_form': 'delete_condition=user_id+%3D+%27user_615%27&dry_run=true',
    'escapes_and_empty': '&a=%00%ff%2B&&b=&c==x&dry_run',
    'bad_escape': 'user_id=%G1',
    'truncated_escape': 'user_id=abc%2',
    'empty_name': 'a=1&=x',
    'utf8': 'user_id=caf%C3%A9&feature_id=%E2%9C%93',
}
FORM_TARGETS = {  # first byte >= 128
    'target_pipe': '/v0/pipes/user_feature_usage.json?token=t&user_id=usr_789&feature_id=feature_recommendations',
    'target_no_query': '/v0/health',
    'target_fragment': '/v0/x?a=1#frag?b=2',
    'target_two_marks': '/v0/x?a=?b&c=d',
}
MULTIPART_BODIES = {  # odd first byte: a raw body, boundary "b"
    'curl_csv': '--b\r\nContent-Disposition: form-data; name="csv"; filename="e.csv"\r\nContent-Type: text/csv\r\n\r\n'
                'user_id,feature_id\r\nu,f\r\n\r\n--b--\r\n',
    'field_then_file': '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b\r\n'
                       'Content-Disposition: form-data; name=file; filename=x.ndjson\r\n\r\n{}\n\r\n--b--',
    'two_files': '--b\r\nContent-Disposition: form-data; name="csv"\r\n\r\na\r\n--b\r\n'
                 'Content-Disposition: form-data; name="ndjson"\r\n\r\nb\r\n--b--\r\n',
    'no_file': '--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n',
    'unterminated': '--b\r\nContent-Disposition: form-data; name="csv"\r\n\r\nabc',
    'padding_after_boundary': 'pre\r\n--b \t\r\nContent-Disposition: form-data; name="csv"\r\n\r\nx\r\n--b--',
    'no_disposition': '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n',
}
MULTIPART_FILES = {  # even first byte: the file's content
    'file_csv': 'user_id,feature_id,product_version,event_type,timestamp\r\nu1,f1,1.0,view,2025-01-01 00:00:00\r\n',
    'file_with_boundary_like_lines': '\r\n--Boundary\r\n--Boundaryx--\r\n\r\n',
    'file_empty': '',
}


def write(directory, name, data, i):
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    body = bytes([CONTROLS[i % len(CONTROLS)]]) + data
    assert len(body) < 4096, name
    with open(os.path.join(directory, name), 'wb') as f:
        f.write(body)


def write_with(directory, name, data, control):
    os.makedirs(directory, exist_ok=True)
    body = bytes([control]) + data.encode('utf-8', 'surrogateescape')
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
    corpus = lambda name: os.path.join(HERE, 'corpus', name)
    for name, data in JWT_TOKENS.items():
        write_with(corpus('jwt'), name, data, 0)
    for name, data in JWT_SIGNED.items():
        write_with(corpus('jwt'), name, data, 200)
    for name, data in FORM_TEXT.items():
        write_with(corpus('form'), name, data, 0)
    for name, data in FORM_TARGETS.items():
        write_with(corpus('form'), name, data, 200)
    for i, (name, data) in enumerate(MULTIPART_BODIES.items()):
        write_with(corpus('multipart'), name, data, [1, 41, 101, 201][i % 4])
    for i, (name, data) in enumerate(MULTIPART_FILES.items()):
        write_with(corpus('multipart'), name, data, [0, 40, 100, 200][i % 4])


if __name__ == '__main__':
    main()
