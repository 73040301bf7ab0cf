redis.log(3444444444444444, 'x')
redis.setresp(1e300)
redis.set_repl(-1e300)
return {1e20, -1e20, 0/0}
