# Proves the test harness itself with plain nginx features (no fwgate
# module), under our t/compat runner and under the real Test::Nginx.

use Test::Nginx::Socket;

repeat_each(2);

plan tests => repeat_each() * 26;

no_long_string();

run_tests();

__DATA__

=== TEST 1: return a body
--- config
    location = /hello {
        return 200 "hello, world\n";
    }
--- request
GET /hello
--- response_body
hello, world
--- no_error_log
[error]



=== TEST 2: response headers, present and absent
--- config
    location = /h {
        add_header X-Foo bar always;
        return 204;
    }
    location = /b {
        add_header X-Foo "bar baz";
        return 200 "status: $status, uri: $uri";
    }
--- request
GET /b
--- response_headers
X-Foo: bar baz
!X-Absent
--- response_body_like chomp
^status: 200, uri: /b$



=== TEST 3: error log lines of the current request, per log level
--- log_level: notice
--- config
    rewrite_log on;
    location /old {
        rewrite ^/old/(.*)$ /new/$1 last;
    }
    location /new {
        return 200 "moved: $uri";
    }
--- request
GET /old/fw.bin
--- response_body chop
moved: /new/fw.bin
--- error_log eval
[
    qr{\[notice\] .*"\^/old/\(\.\*\)\$" matches "/old/fw.bin"},
    'rewritten data: "/new/fw.bin"',
]
--- no_error_log
[debug]
[error]



=== TEST 4: request body, more_headers and an inline error_code
--- config
    location = /upload {
        return 403 "len=$content_length token=$http_x_token\n";
    }
--- more_headers
X-Token: abc
--- request
POST /upload
hello world
--- error_code: 403
--- response_body
len=11 token=abc



=== TEST 5: a bad directive makes nginx refuse the config
--- config
    location = /t {
        fwgate_no_such_directive on;
    }
--- must_die
--- error_log
unknown directive "fwgate_no_such_directive"



=== TEST 6: random port, user_files and a chunked response
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            root $TEST_NGINX_SERVER_ROOT/html;
            sub_filter_types text/plain;
            sub_filter 'world' 'edge';
        }
    }
--- config
    location /files/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/;
    }
--- user_files
>>> fw.txt
hello world
--- request
GET /files/fw.txt
--- response_headers
Transfer-Encoding: chunked
--- response_body
hello edge



=== TEST 7: pipelined requests
--- config
    location /p {
        return 200 "$uri\n";
    }
--- pipelined_requests eval
["GET /p1", "GET /p2"]
--- response_body eval
["/p1\n", "/p2\n"]
--- no_error_log
[error]
