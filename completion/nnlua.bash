# bash completion for nnlua: its options (those of --sandbox once it is given),
# Lua scripts, module names after -l, and files or folders after the options
# that take one.
_nnlua() {
  local cur prev i sandbox=
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  # after the script, every word is the script's own argument: complete files
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -e|-l|--report|--out|--allow-read|--max-memory|--max-time) ((i++)) ;;
      --sandbox) sandbox=1 ;;
      --) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      -*) ;;
      *) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
  done
  case $prev in
    -e|--max-memory|--max-time) return ;;
    -l) COMPREPLY=($(compgen -W "tensor nn optim data datasets transforms plot" -- "$cur")); return ;;
    --out) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --report|--allow-read) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    if [[ $sandbox ]]; then
      COMPREPLY=($(compgen -W "--out --allow-read --max-memory --max-time --report --report-date -h --help --" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "-e -i -l -v --version -W -h --help --kernel --sandbox --report --report-date -- -" -- "$cur"))
    fi
    return
  fi
  COMPREPLY=($(compgen -f -X '!*.lua' -- "$cur") $(compgen -d -- "$cur"))
}
complete -o filenames -F _nnlua nnlua
