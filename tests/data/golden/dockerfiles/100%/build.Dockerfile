FROM ubuntu
ENTRYPOINT exec run
