// Vue 3: `isCustomElement` tells the template compiler that cobrowse-* tags are not Vue components;
// `:relay` and `:strings` are then set as properties (they exist on the element) and
// `@cobrowse-session-created` listens for that DOM event.
import { createApp, ref } from 'vue';
import 'cobrowse-sdk';

const app = createApp({
  setup() {
    const relay = new URLSearchParams(location.search).get('relay') ?? 'ws://localhost:8080/relay';
    return { relay, strings: { trigger: 'Share this tab' }, name: ref(''), code: ref(''), renders: ref(0) };
  },
  template: `
    <h1>Contact us</h1>
    <form @submit.prevent>
      <label>Name <input id="name" v-model="name"></label>
      <p id="echo">Hello {{ name || 'nobody' }}</p>
      <button id="rerender" type="button" @click="renders++">Re-render ({{ renders }})</button>
    </form>
    <p id="session">{{ code && 'Session ID ' + code }}</p>
    <cobrowse-launcher :relay="relay" :strings="strings" @cobrowse-session-created="code = $event.detail.code"></cobrowse-launcher>
  `,
});
app.config.compilerOptions.isCustomElement = (tag) => tag.startsWith('cobrowse-');
// For the e2e test: what Vue's state holds, not what the DOM shows.
window.vueState = app.mount('#root');
