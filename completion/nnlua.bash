# bash completion for nnlua: its options, Lua scripts, and module names after -l.
_nnlua() {
  local cur prev i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  # after the script, every word is the script's own argument: complete files
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -e|-l) ((i++)) ;;
      --) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      -*) ;;
      *) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
  done
  case $prev in
    -e) return ;;
    -l) COMPREPLY=($(compgen -W "tensor nn optim data datasets transforms plot" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "-e -i -l -v --version -W -h --help --kernel -- -" -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -f -X '!*.lua' -- "$cur") $(compgen -d -- "$cur"))
}
complete -o filenames -F _nnlua nnlua
